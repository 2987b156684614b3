#!/usr/bin/env bash
# Build every fuzz target, then run each for SECONDS (default 60), one at a
# time, starting from the committed corpus and regression inputs.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#   FUZZ_JOBS=2 fuzz/run.sh 600     # two targets at a time (one core each)
#
# Uses `cargo +nightly fuzz` when a nightly toolchain is installed, else the
# stable toolchain with RUSTC_BOOTSTRAP=1. New inputs go to a scratch corpus
# under fuzz/target/ (the committed corpus/ is only read); crashes go to
# fuzz/artifacts/<target>/. Each allocation is capped by -malloc_limit_mb, so
# a decoder that trusts a hostile length field fails loudly. Prints each
# target's final exec/s and coverage; exits non-zero if any target failed.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
shift || true

if cargo +nightly --version >/dev/null 2>&1; then
    cargo=(cargo +nightly)
else
    cargo=(cargo)
    export RUSTC_BOOTSTRAP=1
fi
if ! "${cargo[@]}" fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
    exit 1
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <("${cargo[@]}" fuzz list)
fi

echo "building ${#targets[@]} fuzz targets"
"${cargo[@]}" fuzz build

logs=target/run-logs
mkdir -p "$logs"

# Run one target; its summary line goes to $logs/<target>.summary.
run_one() {
    local target="$1"
    local scratch="target/run-corpus/$target"
    local log="$logs/$target.log"
    mkdir -p "$scratch" "corpus/$target" "regressions/$target"
    echo "=== $target: ${seconds}s ==="
    local status=ok
    if ! "${cargo[@]}" fuzz run "$target" "$scratch" "corpus/$target" "regressions/$target" -- \
        -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=64 \
        -print_final_stats=1 >"$log" 2>&1; then
        status=FAILED
        grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -n 8 || true
    fi
    local last cov ft execs rate
    last=$(grep -E "^#[0-9]+.*cov: " "$log" | tail -n 1 || true)
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    printf '%-10s %-6s %4ss  exec/s: %-7s cov: %-6s ft: %-7s execs: %s\n' \
        "$target" "$status" "$seconds" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${execs:-?}" \
        | tee "$logs/$target.summary"
}

parallel="${FUZZ_JOBS:-1}"
for target in "${targets[@]}"; do
    rm -f "$logs/$target.summary"
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do
        wait -n || true
    done
    run_one "$target" &
done
wait

echo
echo "=== fuzz summary (logs in fuzz/$logs) ==="
failed=0
for target in "${targets[@]}"; do
    if [ -f "$logs/$target.summary" ]; then
        cat "$logs/$target.summary"
        grep -q " ok " "$logs/$target.summary" || failed=1
    else
        echo "$target: no result"
        failed=1
    fi
done
exit "$failed"
