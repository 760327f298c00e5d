#!/usr/bin/env bash
# Metric ingestion: MLflow log-batch into `cairn serve`, next to a raw bulk insert of the same rows into the same kind of database.
# Usage: bench/tracking.sh [points, default 1000000] [clients, default 4] [sqlite | postgres, default sqlite]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build src/Cairn.Cli/Cairn.Cli.csproj bench/Cairn.Bench.Tracking/Cairn.Bench.Tracking.csproj

store=()
raw=()
if [ "${3:-sqlite}" = postgres ]; then
  start_postgres
  store=(--store "$(create_database "$postgres_uri")")
  raw=("$(create_database "$postgres_uri")")
fi

dotnet "$cli" --home "$home" "${store[@]}" serve --port 5103 >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:5103/v2/health/ready && break; sleep 0.2; done
dotnet "$root/bench/Cairn.Bench.Tracking/bin/Release/net10.0/Cairn.Bench.Tracking.dll" http://127.0.0.1:5103/ "${1:-1000000}" "${2:-4}" "${raw[@]}"
