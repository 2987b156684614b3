//! W4: encode + decode of a 64-entry append, steadfast and raft-rs.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use steadfast_bench::codec::{
    raft_append, raft_round_trip, steadfast_append, steadfast_round_trip, W4_ENTRIES,
};

fn w4(c: &mut Criterion) {
    let mut group = c.benchmark_group("W4 encode+decode 64-entry append");
    group.throughput(Throughput::Elements(W4_ENTRIES));
    let envelope = steadfast_append();
    group.bench_function("steadfast", |b| {
        b.iter(|| steadfast_round_trip(black_box(&envelope)))
    });
    let message = raft_append();
    group.bench_function("raft-rs", |b| {
        b.iter(|| raft_round_trip(black_box(&message)))
    });
    group.finish();
}

criterion_group!(benches, w4);
criterion_main!(benches);
