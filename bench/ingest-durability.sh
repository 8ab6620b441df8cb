#!/usr/bin/env bash
# Measures HTTP ingest throughput (records acknowledged per second) with log.durability=os and =fsync, in one run on
# this machine, so the two are comparable. Usage: bench/ingest-durability.sh [REQUESTS] [RECORDS_PER_REQUEST] [CLIENTS]
# Needs curl. Each mode gets a fresh data dir; the server runs on free ports.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requests=${1:-200}
per_request=${2:-1000}
clients=${3:-4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$per_request" > "$work/batch.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"user_id": f"u{i % 500}", "page": f"/p{i % 8}", "country": "DE", "referrer": "direct",
                   "event_time": "2026-11-22T10:00:00.000"} for i in range(n)]))
PY
run_mode() {
  local mode=$1 log="$work/$1.log"
  TARN_LOG_DURABILITY=$mode "$here/tarn" server --data-dir "$work/data-$mode" --http-port 0 --kafka-port 0 >"$log" 2>&1 &
  local pid=$!
  local url=""
  for _ in $(seq 1 180); do
    url=$(grep -o 'READY http=[^ ]*' "$log" | cut -d= -f2 || true)
    [[ -n "$url" ]] && break
    sleep 1
  done
  [[ -n "$url" ]] || { echo "server ($mode) did not start; see $log" >&2; kill $pid; exit 1; }
  curl -sf -XPOST "$url/v1/topics" -d '{"name":"bench","partitions":4}' >/dev/null
  for _ in $(seq 1 10); do curl -sf -XPOST "$url/v1/topics/bench/records" --data-binary "@$work/batch.json" >/dev/null; done
  local start end
  start=$(date +%s.%N)
  seq 1 "$requests" | xargs -P "$clients" -I{} curl -sf -XPOST "$url/v1/topics/bench/records" --data-binary "@$work/batch.json" -o /dev/null
  end=$(date +%s.%N)
  kill $pid; wait $pid 2>/dev/null || true
  python3 -c "print(f'{\"$mode\":6} {($requests*$per_request)/($end-$start):>12,.0f} records/s  ({$requests} requests x {$per_request} records, {$clients} clients, {$end-$start:.1f} s)')"
}
echo "HTTP ingest, acknowledged records per second ($(nproc) cores):"
run_mode os
run_mode fsync
