#!/usr/bin/env bash
# The Explorer as a new user meets it: a bad address fails with one line;
# a good one serves the UI, which headless Chromium loads and renders a
# compact state in. Leaves the screenshot and the rendered page in
# target/explorer/ (or $1).
#
#   scripts/explorer-check.sh [OUT_DIR]
#
# Needs chromium (Debian: `apt-get install chromium`), curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/explorer}
mkdir -p "$out"
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chromium" ]; then
    echo "explorer-check: no chromium on PATH (Debian: apt-get install chromium)" >&2
    exit 1
fi
cargo build --quiet --release -p steadfast-models
bin=target/release/steadfast
check=matrix/n=3-quorum-majority

fail() { echo "explorer-check: $*" >&2; exit 1; }

# 1. Bad addresses: a non-zero exit and a one-line error, no panic.
for bad in 127.0.0.1:99999 not-an-address; do
    if "$bin" explore "$check" --addr "$bad" 2> "$out/bad-addr.txt"; then
        fail "explore --addr $bad exited 0"
    fi
    lines=$(wc -l < "$out/bad-addr.txt")
    [ "$lines" -eq 1 ] || fail "explore --addr $bad printed $lines lines: $(cat "$out/bad-addr.txt")"
    if grep -q "panicked" "$out/bad-addr.txt"; then fail "explore --addr $bad panicked"; fi
    echo "explore --addr $bad: $(cat "$out/bad-addr.txt")"
done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(5)" &
holder=$!
sleep 1
if "$bin" explore "$check" --addr "127.0.0.1:$port" 2> "$out/busy-addr.txt"; then
    fail "explore on a port in use exited 0"
fi
[ "$(wc -l < "$out/busy-addr.txt")" -eq 1 ] || fail "busy port: $(cat "$out/busy-addr.txt")"
echo "explore on a busy port: $(cat "$out/busy-addr.txt")"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true

# 2. Serve, and wait until the UI answers.
"$bin" explore "$check" --addr "127.0.0.1:$port" 2> "$out/serve.txt" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$port/.status" > /dev/null; then break; fi
    sleep 0.2
done
curl -sf "http://127.0.0.1:$port/.status" > "$out/status.json" || fail "the explorer never answered"

# 3. The states the UI shows are compact. Walk three steps from the
#    initial state (the first action that changes something, each time)
#    and check every state on the way: a few short lines, actions in their
#    one-line form.
path=$(python3 - "$port" "$out" <<'PY'
import json, sys, urllib.request
port, out = sys.argv[1], sys.argv[2]
def views(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/.states{path}") as r:
        return json.load(r)
path, largest, seen = "", 0, 0
for depth in range(4):
    vs = views(path)
    json.dump(vs, open(f"{out}/states-{depth}.json", "w"), indent=1)
    shown = [v for v in vs if "state" in v]
    assert shown, f"no state after {path!r}"
    for v in shown:
        state = v["state"]
        assert "in flight:" in state and "· commit" in state, state
        assert all(len(line) < 160 for line in state.splitlines()), state
        assert "request:" not in v.get("action", ""), v["action"]
        largest, seen = max(largest, len(state)), seen + 1
    if depth < 3:
        path += f"/{shown[0]['actionIndex']}"
print(f"{seen} states checked, the largest {largest} bytes", file=sys.stderr)
assert largest < 2000, f"a state of {largest} bytes"
print(path)
PY
)

# 4. Headless Chromium renders the state at the end of that walk, and its
#    page shows it.
url="http://127.0.0.1:$port/#/steps$path"
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=10000 --window-size=1400,1100)
"$chromium" "${flags[@]}" --screenshot="$out/explorer.png" "$url" 2> "$out/chromium.log" || fail "chromium: $(tail -n 3 "$out/chromium.log")"
"$chromium" "${flags[@]}" --dump-dom "$url" > "$out/explorer.html" 2>> "$out/chromium.log" || fail "chromium --dump-dom failed"
[ -s "$out/explorer.png" ] || fail "no screenshot"
grep -q "in flight:" "$out/explorer.html" || fail "the rendered page shows no compact state"
grep -q "· commit" "$out/explorer.html" || fail "the rendered page shows no replica line"
if grep -q "ActorModelState" "$out/explorer.html"; then fail "the page shows a Debug dump"; fi
echo "explorer ok: $out/explorer.png ($(wc -c < "$out/explorer.png") bytes), $url"
