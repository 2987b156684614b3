#!/usr/bin/env bash
# Runs the loom models of `steadfast-driver` (driver/src/loom_models.rs and
# driver/src/driver_loom_models.rs)
# and prints how many executions each one explored.
#
#   scripts/loom.sh                 # all models, preemption bound 3
#   LOOM_MAX_PREEMPTIONS=2 scripts/loom.sh close_wakes   # one model, smaller bound
#
# Uses its own target dir (LOOM_TARGET_DIR, default target/loom): the
# `--cfg loom` flags would otherwise rebuild the normal target dir each time.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}"
filter="${1:-loom_models}"
exec cargo test --release -p steadfast-driver --lib "$filter" -- --nocapture
