#!/usr/bin/env bash
# The compiled engine against ONNX Runtime in process, no HTTP: the examples' Adult LightGBM classifier (300 trees),
# bike-sharing LightGBM regression (500 trees) and sentiment's linear model over word and character n-grams, trained
# from their example specs, scored one row at a time (a different row each call) and in batches of 100.
# BenchmarkDotNet prints mean time per row and allocations.
# Usage: bench/engine.sh [extra BenchmarkDotNet arguments, e.g. --job short]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build bench/Cairn.Bench.Scoring/Cairn.Bench.Scoring.csproj
cd "$root/bench/Cairn.Bench.Scoring/bin/Release/net10.0"
dotnet Cairn.Bench.Scoring.dll --filter '*ScoringBenchmarks*' "$@"
