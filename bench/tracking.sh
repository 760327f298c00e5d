#!/usr/bin/env bash
# Metric ingestion: MLflow log-batch into `cairn serve` on SQLite, next to a raw SQLite bulk insert of the same rows.
# Usage: bench/tracking.sh [points, default 1000000] [clients, default 4]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build src/Cairn.Cli/Cairn.Cli.csproj bench/Cairn.Bench.Tracking/Cairn.Bench.Tracking.csproj

dotnet "$cli" --home "$home" serve --port 5103 >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:5103/v2/health/ready && break; sleep 0.2; done
dotnet "$root/bench/Cairn.Bench.Tracking/bin/Release/net10.0/Cairn.Bench.Tracking.dll" http://127.0.0.1:5103/ "${1:-1000000}" "${2:-4}"
