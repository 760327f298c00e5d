#!/usr/bin/env bash
# A 16-trial random sweep of LightGBM on the Adult data (no early stopping, so every trial trains fully), run with
# one trial at a time and then with N at once, in the same home: wall time of each and the ratio.
# Usage: bench/sweep.sh [parallel, default 2] [trials, default 16]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build src/Cairn.Cli/Cairn.Cli.csproj

parallel="${1:-2}"
trials="${2:-16}"
dotnet "$cli" --home "$home/cairn" datasets add "$root/examples/adult/adult.csv" --name adult >/dev/null
sed -e "s/^  trials: .*/  trials: $trials/" -e 's/^  early_stopping: .*/  early_stopping: none/' -e 's/^  num_iterations: .*/  num_iterations: 100/' \
  "$root/examples/adult/sweep.yaml" > "$home/sweep.yaml"

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
one=$(seconds dotnet "$cli" --home "$home/cairn" sweep --config "$home/sweep.yaml" --parallel 1)
many=$(seconds dotnet "$cli" --home "$home/cairn" sweep --config "$home/sweep.yaml" --parallel "$parallel")
printf '%s trials one at a time: %6.2f s\n' "$trials" "$one"
printf '%s trials %s at a time:   %6.2f s   (ratio %.2f; %s cores)\n' "$trials" "$parallel" "$many" "$(echo "$many / $one" | bc -l)" "$(nproc)"
