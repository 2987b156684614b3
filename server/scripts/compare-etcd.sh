#!/usr/bin/env bash
# Side-by-side: the same closed-loop workload against a three-member etcd
# cluster and a three-node steadfast cluster, all on loopback, and a
# markdown table of the results.
#
#   server/scripts/compare-etcd.sh
#
# Settings (environment variables, with their defaults):
#   CLIENTS=64 VALUE_SIZE=256 WRITE_FRACTION=1.0 KEYS=1000 DURATION=10 SEED=1
#   TARGETS="etcd steadfast"  which systems to run, in this order
#   BIN=…/release/steadfast-server  skip the build and use this binary
#   ETCD_PORT_BASE=32300 STEADFAST_PORT_BASE=33300  loopback port ranges
#   KEEP_TMP=1  keep the data directories and logs
#
# etcd runs with its defaults (fsync on every commit); steadfast with
# `--durability quorum`. Both clusters share this machine's cores and disk,
# so only compare figures measured by the same run.
set -euo pipefail

CLIENTS=${CLIENTS:-64}
VALUE_SIZE=${VALUE_SIZE:-256}
WRITE_FRACTION=${WRITE_FRACTION:-1.0}
KEYS=${KEYS:-1000}
DURATION=${DURATION:-10}
SEED=${SEED:-1}
TARGETS=${TARGETS:-etcd steadfast}
ETCD_PORT_BASE=${ETCD_PORT_BASE:-32300}
STEADFAST_PORT_BASE=${STEADFAST_PORT_BASE:-33300}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TMP=$(mktemp -d -t steadfast-vs-etcd.XXXXXX)
PIDS=()

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'compare-etcd: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local status=$?
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "${KEEP_TMP:-}" ]]; then
        say "kept data directories and logs in $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The field $2 of the one-line JSON report $1 (numbers only).
field() { sed -E "s/.*\"$2\":([^,}]*).*/\1/" <<<"$1"; }

# Wait until `curl $@` succeeds, for up to 30 s.
wait_for() {
    local what=$1
    shift
    for _ in $(seq 1 300); do
        if curl -sf -o /dev/null --max-time 1 "$@"; then
            return 0
        fi
        sleep 0.1
    done
    die "$what did not come up within 30 s (logs in $TMP; set KEEP_TMP=1 to keep them)"
}

# Run the load generator against $1 (etcd or steadfast) at endpoints $2;
# prints its JSON line on stdout, the rest of its output on stderr.
bench() {
    local target=$1 endpoints=$2 out="$TMP/bench-$1.out"
    say "bench: $target at $endpoints: $CLIENTS clients, $VALUE_SIZE-byte values, write fraction $WRITE_FRACTION, $DURATION s"
    "$BIN" bench --target "$target" --endpoints "$endpoints" \
        --clients "$CLIENTS" --value-size "$VALUE_SIZE" --write-fraction "$WRITE_FRACTION" \
        --keys "$KEYS" --duration-secs "$DURATION" --seed "$SEED" >"$out" \
        || die "the $target benchmark failed (output: $out)"
    grep -v '^{' "$out" >&2 || true
    local line
    line=$(grep '^{.*"target"' "$out" | tail -n 1) || die "the $target benchmark printed no JSON line"
    printf '%s\n' "$line"
}

# --- the binary -------------------------------------------------------------
if [[ -z "${BIN:-}" ]]; then
    say "building steadfast-server (release)"
    (cd "$ROOT" && cargo build --release -p steadfast-server) || die "the build failed"
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/steadfast-server"
fi
[[ -x "$BIN" ]] || die "no executable at $BIN"
"$BIN" bench --help >/dev/null 2>&1 || die "$BIN has no bench subcommand"

declare -A RESULT

# --- etcd -------------------------------------------------------------------
run_etcd() {
    if ! command -v etcd >/dev/null; then
        say "installing etcd (apt-get install etcd-server)"
        command -v apt-get >/dev/null || die "etcd is not installed and there is no apt-get to install it"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null \
            || die "could not install etcd-server"
    fi
    say "$(etcd --version | head -n 1)"
    local cluster="" endpoints="" i client peer
    for i in 1 2 3; do
        peer=$((ETCD_PORT_BASE + 10 * i + 2))
        cluster+="${cluster:+,}e$i=http://127.0.0.1:$peer"
    done
    for i in 1 2 3; do
        client=$((ETCD_PORT_BASE + 10 * i + 1))
        peer=$((ETCD_PORT_BASE + 10 * i + 2))
        endpoints+="${endpoints:+,}127.0.0.1:$client"
        etcd --name "e$i" --data-dir "$TMP/etcd$i" \
            --listen-client-urls "http://127.0.0.1:$client" \
            --advertise-client-urls "http://127.0.0.1:$client" \
            --listen-peer-urls "http://127.0.0.1:$peer" \
            --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
            --initial-cluster "$cluster" --initial-cluster-token steadfast-bench \
            --initial-cluster-state new >"$TMP/etcd$i.log" 2>&1 &
        PIDS+=($!)
    done
    say "etcd members starting at $endpoints"
    for i in 1 2 3; do
        wait_for "etcd member e$i" "http://127.0.0.1:$((ETCD_PORT_BASE + 10 * i + 1))/health"
    done
    RESULT[etcd]=$(bench etcd "$endpoints")
    local n=${#PIDS[@]}
    for pid in "${PIDS[@]:n-3}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]:n-3}"; do wait "$pid" 2>/dev/null || true; done
}

# --- steadfast --------------------------------------------------------------
run_steadfast() {
    local members=() endpoints="" i peer http
    for i in 1 2 3; do
        peer=$((STEADFAST_PORT_BASE + 10 * i + 2))
        http=$((STEADFAST_PORT_BASE + 10 * i + 1))
        members+=(--member "$i=127.0.0.1:$peer,127.0.0.1:$http")
        endpoints+="${endpoints:+,}127.0.0.1:$http"
    done
    for i in 1 2 3; do
        "$BIN" run --id "$i" "${members[@]}" --data-dir "$TMP/steadfast$i" \
            --durability quorum >"$TMP/steadfast$i.log" 2>&1 &
        PIDS+=($!)
    done
    say "steadfast nodes starting at $endpoints"
    for i in 1 2 3; do
        wait_for "steadfast node $i" "http://127.0.0.1:$((STEADFAST_PORT_BASE + 10 * i + 1))/status"
    done
    RESULT[steadfast]=$(bench steadfast "$endpoints")
    local n=${#PIDS[@]}
    for pid in "${PIDS[@]:n-3}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]:n-3}"; do wait "$pid" 2>/dev/null || true; done
}

for target in $TARGETS; do
    case "$target" in
        etcd) run_etcd ;;
        steadfast) run_steadfast ;;
        *) die "unknown target in TARGETS: $target (etcd, steadfast)" ;;
    esac
done

# --- the table --------------------------------------------------------------
echo
echo "$CLIENTS clients, $VALUE_SIZE-byte values, write fraction $WRITE_FRACTION, $KEYS keys, $DURATION s, three nodes on loopback"
echo
echo "| system | writes/s | ops/s | write p50 (us) | write p99 (us) | write p99.9 (us) | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for target in $TARGETS; do
    line=${RESULT[$target]}
    printf '| %s | %.0f | %.0f | %s | %s | %s | %s |\n' "$target" \
        "$(field "$line" write_throughput)" "$(field "$line" throughput)" \
        "$(field "$line" write_p50_us)" "$(field "$line" write_p99_us)" \
        "$(field "$line" write_p999_us)" "$(field "$line" errors)"
done
echo
echo "Raw reports:"
echo
for target in $TARGETS; do
    echo "    ${RESULT[$target]}"
done
