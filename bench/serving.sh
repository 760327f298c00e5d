#!/usr/bin/env bash
# Single-row inference throughput of `cairn serve` against a bare Kestrel endpoint, measured with wrk in one run.
# Usage: bench/serving.sh [seconds per measurement, default 15] [connections, default 32]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
duration="${1:-15}"
connections="${2:-32}"

if ! command -v wrk >/dev/null; then
  echo "Installing wrk..." >&2
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

build src/Cairn.Cli/Cairn.Cli.csproj bench/Cairn.Bench.KestrelBaseline/Cairn.Bench.KestrelBaseline.csproj

echo "Training the Adult model (cairn quickstart)..." >&2
dotnet "$cli" --home "$home" quickstart >/dev/null

dotnet "$cli" --home "$home" serve --port 5101 >/dev/null 2>&1 & pids+=($!)
dotnet "$root/bench/Cairn.Bench.KestrelBaseline/bin/Release/net10.0/Cairn.Bench.KestrelBaseline.dll" --urls http://127.0.0.1:5102 >/dev/null 2>&1 & pids+=($!)
for url in http://127.0.0.1:5101/v2/health/ready http://127.0.0.1:5102/predict; do
  for _ in $(seq 100); do curl -s -o /dev/null "$url" -X "$([ "${url##*/}" = predict ] && echo POST || echo GET)" && break; sleep 0.2; done
done

measure() { # name url script
  wrk -t2 -c"$connections" -d5s -s "$root/bench/$3" "$2" >/dev/null # warm-up: JIT, tiered compilation, pools
  local out; out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$root/bench/$3" "$2")"
  local rps p50 p99 errors
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  printf '%-34s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${errors:-0}"
  echo "$rps" > "$home/$1.rps"
}

echo "wrk: 2 threads, $connections connections, ${duration}s each, on $(nproc) cores shared by client and server"
measure baseline-kestrel http://127.0.0.1:5102/predict row.lua
measure cairn-json-rows http://127.0.0.1:5101/api/models/adult-income/predict row.lua
measure cairn-open-inference-v2 http://127.0.0.1:5101/v2/models/adult-income/infer oip.lua
base="$(cat "$home/baseline-kestrel.rps")"
for name in cairn-json-rows cairn-open-inference-v2; do
  awk -v n="$name" -v a="$(cat "$home/$name.rps")" -v b="$base" 'BEGIN { printf "%-34s %.2f of bare Kestrel\n", n, a / b }'
done
