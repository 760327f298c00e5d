#!/usr/bin/env bash
# A 20-step pipeline (a chain of small command steps) run once, then again with every step cached; the overhead of
# the cached re-run beside a bare `cairn` process start (`cairn datasets list`).
# Usage: bench/pipelines.sh [steps, default 20]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build src/Cairn.Cli/Cairn.Cli.csproj

steps="${1:-20}"
work="$home/work"
mkdir -p "$work"
echo 0 > "$work/seed.txt"
{
  echo "name: chain"
  echo "steps:"
  previous="file:seed.txt"
  for i in $(seq 1 "$steps"); do
    echo "- {name: s$i, run: [sh, -c, \"cat ${previous#file:} > out$i.txt; echo $i >> out$i.txt\"], inputs: [\"$previous\"], outputs: [\"file:out$i.txt\"]}"
    previous="file:out$i.txt"
  done
} > "$work/pipeline.yaml"

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
first=$(seconds dotnet "$cli" --home "$home/cairn" pipelines run "$work/pipeline.yaml")
cached=$(seconds dotnet "$cli" --home "$home/cairn" pipelines run "$work/pipeline.yaml")
cached2=$(seconds dotnet "$cli" --home "$home/cairn" pipelines run "$work/pipeline.yaml")
bare=$(seconds dotnet "$cli" --home "$home/cairn" datasets list)
printf '%s-step pipeline, first run:       %6.2f s\n' "$steps" "$first"
printf 'all cached, re-run:               %6.2f s / %.2f s  (a bare cairn process: %.2f s; overhead %.2f s, target <= 1 s)\n' \
  "$cached" "$cached2" "$bare" "$(echo "$cached2 - $bare" | bc -l)"
