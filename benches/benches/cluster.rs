//! W1 and W2 (1,024 entries per iteration) on steadfast and raft-rs.
//! The comparison binary (`compare`) reports CPU time and allocations;
//! these give criterion's statistics for the same code.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use steadfast_bench::raft_cluster::RaftCluster;
use steadfast_bench::steadfast_cluster::SteadfastCluster;
use steadfast_bench::workload::{W1, W2};

const ENTRIES: u64 = 1024;

fn workloads(c: &mut Criterion) {
    for workload in [W1, W2] {
        let mut group = c.benchmark_group(workload.name);
        group.throughput(Throughput::Elements(ENTRIES));
        group.bench_function("steadfast", |b| {
            b.iter_batched(
                SteadfastCluster::new,
                |mut cluster| workload.run(&mut cluster, ENTRIES),
                BatchSize::LargeInput,
            )
        });
        group.bench_function("raft-rs", |b| {
            b.iter_batched(
                RaftCluster::new,
                |mut cluster| workload.run(&mut cluster, ENTRIES),
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, workloads);
criterion_main!(benches);
