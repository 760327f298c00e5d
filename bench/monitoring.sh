#!/usr/bin/env bash
# Monitoring's cost to serving: single-row JSON requests through a monitored deployment with monitoring on (every
# prediction profiled into its window and written to the prediction log) and off (`serve --no-monitoring`),
# alternating off/on three times on one machine; then drift of a 1,000,000-prediction window with 50 features.
# Usage: bench/monitoring.sh [seconds per measurement, default 15] [connections, default 32]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
duration="${1:-15}"
connections="${2:-32}"
results="$(mktemp -d)"
if ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

build src/Cairn.Cli/Cairn.Cli.csproj bench/Cairn.Bench.Data/Cairn.Bench.Data.csproj
echo "Training the Adult model (cairn quickstart), deploying and monitoring it..." >&2
dotnet "$cli" --home "$home" quickstart >/dev/null
dotnet "$cli" --home "$home" deploy adult --model adult-income@champion >/dev/null
dotnet "$cli" --home "$home" monitors create adult --reference adult@1 --segment sex >/dev/null

run() { # name [serve flags...]
  local name="$1"; shift
  dotnet "$cli" --home "$home" serve --port 5111 --grpc-port 5112 "$@" >/dev/null 2>&1 & local pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:5111/v2/health/ready && break; sleep 0.2; done
  wrk -t2 -c"$connections" -d"${warmup}s" -s "$root/bench/row.lua" http://127.0.0.1:5111/api/deployments/adult/predict >/dev/null
  # The server's user+system CPU ticks (1/100 s) around the measurement: what each request costs it, whatever the client took.
  local before; before="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
  local out; out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$root/bench/row.lua" http://127.0.0.1:5111/api/deployments/adult/predict)"
  local after; after="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps; rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  printf '%-22s %10s req/s   p50 %-9s p99 %-9s non-2xx %-6s server CPU %s ms per 1,000 requests\n' "$name" "$rps" "$(awk '$1=="50%" {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")" "$(awk '/Non-2xx/ {print $NF}' <<<"$out")" "$(bc -l <<<"scale=1; ($after - $before) * 10000 / ($rps * $duration)")"
  echo "$rps" >> "$results/$name.rps"
}

echo "wrk: 2 threads, $connections connections, ${duration}s each, on $(nproc) cores shared by client and server"
for _ in 1 2 3; do
  run monitoring-off --no-monitoring
  run monitoring-on
done
awk -v on="$(paste -sd+ "$results/monitoring-on.rps" | bc -l)" -v off="$(paste -sd+ "$results/monitoring-off.rps" | bc -l)" \
  'BEGIN { printf "%-22s %.3f of the throughput without monitoring\n", "monitoring on", on / off }'
logged="$(sqlite3 "$home/metadata.db" "SELECT SUM(rows_logged) || ' in ' || COUNT(*) || ' segments, ' || (SUM(bytes) / 1024) || ' KiB compressed, ' || (SELECT COUNT(*) FROM prediction_requests) || ' index entries' FROM prediction_segments" 2>/dev/null || echo '?')"
echo "predictions logged while on: $logged"

dotnet "$root/bench/Cairn.Bench.Data/bin/Release/net10.0/Cairn.Bench.Data.dll" monitor-drift 1000000
