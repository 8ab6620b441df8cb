#!/usr/bin/env bash
# Profiles benchmark variants with JDK Flight Recorder and prints where the CPU goes: top-of-stack samples of the
# threads whose name matches THREADS (default: Flink's source/task threads), by method and by package, and the
# share of all samples per thread group. Usage: bench/profile.sh [WORKLOAD] [VARIANTS] [EVENTS] [THREADS]
#   bench/profile.sh ingest-lake tarn 5000000
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
workload="${1:-ingest-lake}"
variants="${2:-tarn}"
events="${3:-5000000}"
threads="${4:-Source}"
out="$here/bench/results/tmp"
mkdir -p "$out"
jfr="$out/$workload-$variants.jfr"
rm -f "$jfr"
TARN_JAVA_OPTS="-XX:StartFlightRecording=filename=$jfr,settings=profile,dumponexit=true" \
  "$here/tarn" bench "$workload" --variants "$variants" --lake-events "$events" --http-events "$events" \
  --repetitions 1 --warmups 0 --out "$out" >/dev/null
samples="$out/$workload-$variants.samples"
jfr print --events jdk.ExecutionSample "$jfr" | awk '
  /sampledThread = / { thread = $0; sub(/.*sampledThread = "/, "", thread); sub(/" \(javaThreadId.*/, "", thread) }
  /stackTrace = \[/ { getline; frame = $0; sub(/^[ \t]+/, "", frame); sub(/[ \t]+line:.*$/, "", frame); print thread "\t" frame }
' >"$samples"
set +o pipefail
total=$(wc -l <"$samples")
echo "== $workload / $variants: $total CPU samples in all threads; by thread (name up to the first digit) =="
cut -f1 "$samples" | sed -E 's/[0-9(#].*$//' | sort | uniq -c | sort -rn | head -12 \
  | awk -v t="$total" '{ n = $1; $1 = ""; printf "%5.1f%%  %s\n", 100*n/t, $0 }'
grep -E "^[^\t]*$threads" "$samples" | cut -f2 >"$samples.selected"
selected=$(wc -l <"$samples.selected")
echo "== threads matching '$threads': $selected samples; hottest methods (self) =="
sort "$samples.selected" | uniq -c | sort -rn | head -30 | awk -v t="$selected" '{ printf "%5.1f%%  %s\n", 100*$1/t, $2 }'
echo "== by package (self) =="
sed -E 's/\.[^.]+\.[^.(]+\(.*$//' "$samples.selected" | awk -F. '{ print $1"."$2"."$3"."$4 }' | sort | uniq -c \
  | sort -rn | head -15 | awk -v t="$selected" '{ printf "%5.1f%%  %s\n", 100*$1/t, $2 }'
echo "recording: $jfr"
