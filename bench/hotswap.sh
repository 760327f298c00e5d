#!/usr/bin/env bash
# Hot swaps under load: wrk drives single-row requests at a deployment while its alias moves 20 times between two
# versions; every request must succeed. Reports failures, throughput during the swaps, and requests per version.
# Usage: bench/hotswap.sh [moves, default 20] [seconds between moves, default 1]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
moves="${1:-20}"
pause="${2:-1}"

if ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

build src/Cairn.Cli/Cairn.Cli.csproj
echo "Training the Adult model (cairn quickstart), registering a second version and deploying..." >&2
dotnet "$cli" --home "$home" quickstart >/dev/null
run="$(dotnet "$cli" --home "$home" runs list --json | python3 -c 'import json,sys; print(next(r["id"] for r in json.load(sys.stdin) if r["status"] == "finished"))')"
dotnet "$cli" --home "$home" models register "$run" --name adult-income >/dev/null
dotnet "$cli" --home "$home" deploy adult --model adult-income@champion >/dev/null

dotnet "$cli" --home "$home" serve --port 5105 --grpc-port 5106 >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:5105/v2/health/ready && break; sleep 0.2; done
wrk -t2 -c32 -d5s -s "$root/bench/oip.lua" http://127.0.0.1:5105/v2/models/adult/infer >/dev/null # warm-up

seconds="$(awk -v m="$moves" -v p="$pause" 'BEGIN { printf "%d", m * p + 4 }')"
wrk -t2 -c32 -d"${seconds}s" -s "$root/bench/oip.lua" http://127.0.0.1:5105/v2/models/adult/infer > "$home/wrk.txt" &
load=$!
sleep 2
for i in $(seq "$moves"); do
  dotnet "$cli" --home "$home" models set-alias adult-income champion "$(( i % 2 == 1 ? 2 : 1 ))" >/dev/null
  sleep "$pause"
done
wait "$load"

echo "$moves alias moves, ${pause}s apart, under wrk -t2 -c32 for ${seconds}s:"
grep -E "requests in|Requests/sec|Non-2xx|Socket errors" "$home/wrk.txt" || true
grep -q -E "Non-2xx|Socket errors" "$home/wrk.txt" && echo "FAILED REQUESTS" || echo "failed requests: 0"
curl -s http://127.0.0.1:5105/metrics | grep -E '^cairn_prediction_requests_total\{deployment="adult"' || true
