#!/usr/bin/env bash
# Search over many runs (20 params and 20 metrics each), store-level ingestion, and a million-point metric's history, full and downsampled.
# Usage: bench/search.sh [runs, default 10000] [sqlite | postgres, default sqlite]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build bench/Cairn.Bench.Tracking/Cairn.Bench.Tracking.csproj

database=()
if [ "${2:-sqlite}" = postgres ]; then
  start_postgres
  database=("$(create_database "$postgres_uri")")
fi

dotnet "$root/bench/Cairn.Bench.Tracking/bin/Release/net10.0/Cairn.Bench.Tracking.dll" search "${1:-10000}" "${database[@]}"
