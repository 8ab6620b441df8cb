#!/usr/bin/env bash
# Profiles benchmark variants with JDK Flight Recorder and prints where the CPU goes (top-of-stack samples, by
# method and by package). Usage: bench/profile.sh [WORKLOAD] [VARIANTS] [EVENTS]
#   bench/profile.sh ingest-lake tarn 5000000
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
workload="${1:-ingest-lake}"
variants="${2:-tarn}"
events="${3:-5000000}"
out="$here/bench/results/tmp"
mkdir -p "$out"
jfr="$out/$workload-$variants.jfr"
rm -f "$jfr"
TARN_JAVA_OPTS="-XX:StartFlightRecording=filename=$jfr,settings=profile,dumponexit=true" \
  "$here/tarn" bench "$workload" --variants "$variants" --lake-events "$events" --http-events "$events" \
  --repetitions 1 --warmups 0 --out "$out" >/dev/null
samples="$out/$workload-$variants.samples"
jfr print --events jdk.ExecutionSample "$jfr" | awk '/stackTrace = \[/ { getline; print }' \
  | sed -E 's/^[[:space:]]+//; s/[[:space:]]+line:.*$//' >"$samples"
total=$(wc -l <"$samples")
echo "== $workload / $variants: $total CPU samples; hottest methods (self) =="
sort "$samples" | uniq -c | sort -rn | head -25 | awk -v t="$total" '{ printf "%5.1f%%  %s\n", 100*$1/t, $2 }'
echo "== by package (self) =="
sed -E 's/\.[^.]+\.[^.(]+\(.*$//' "$samples" | awk -F. '{ print $1"."$2"."$3"."$4 }' | sort | uniq -c | sort -rn \
  | head -15 | awk -v t="$total" '{ printf "%5.1f%%  %s\n", 100*$1/t, $2 }'
echo "recording: $jfr"
