#!/usr/bin/env bash
# Profiling 1,000,000 rows × 20 columns and drift of 20 columns of 1,000,000 rows against a stored profile.
# Usage: bench/data.sh [rows, default 1000000]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build bench/Cairn.Bench.Data/Cairn.Bench.Data.csproj
dotnet "$root/bench/Cairn.Bench.Data/bin/Release/net10.0/Cairn.Bench.Data.dll" "${1:-1000000}" "$home"
