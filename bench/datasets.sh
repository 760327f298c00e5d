#!/usr/bin/env bash
# Adding a large CSV: `cairn datasets add` against `sha256sum` plus `cp` of the same file, and re-adding it unchanged.
# Usage: bench/datasets.sh [size in MiB, default 1024]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build src/Cairn.Cli/Cairn.Cli.csproj bench/Cairn.Bench.Data/Cairn.Bench.Data.csproj

mib="${1:-1024}"
data="$home/big.csv"
# 20 columns: numbers, categories and text, about 110 bytes a row.
python3 - "$data" "$mib" <<'PY'
import random, sys
path, mib = sys.argv[1], int(sys.argv[2])
random.seed(7)
kinds = ["alpha", "beta", "gamma", "delta", "epsilon"]
with open(path, "w") as f:
    f.write(",".join(f"c{i}" for i in range(20)) + "\n")
    target = mib * 1024 * 1024
    rows = [",".join([f"{random.random():.6f}" for _ in range(10)] + [random.choice(kinds) for _ in range(5)] + [str(random.randint(0, 10**6)) for _ in range(5)]) + "\n" for _ in range(10_000)]
    written = 0
    while written < target:
        for row in rows:
            f.write(row)
            written += len(row)
PY
size=$(stat -c %s "$data")
sync
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
baseline=$(seconds bash -c "sha256sum '$data' && cp '$data' '$home/copy.csv' && sync")
rm -f "$home/copy.csv"
add=$(seconds dotnet "$cli" --home "$home/cairn" datasets add "$data" --name big)
again=$(seconds dotnet "$cli" --home "$home/cairn" datasets add "$data" --name big)
noop=$(seconds dotnet "$cli" --home "$home/cairn" datasets list)
printf 'file: %.0f MiB\n' "$(echo "$size / 1048576" | bc -l)"
printf 'sha256sum + cp:        %6.2f s  (%4.0f MiB/s)\n' "$baseline" "$(echo "$size / 1048576 / $baseline" | bc -l)"
printf 'cairn datasets add:    %6.2f s  (%4.0f MiB/s), ratio of throughput %.2f\n' "$add" "$(echo "$size / 1048576 / $add" | bc -l)" "$(echo "$baseline / $add" | bc -l)"
printf 're-add unchanged:      %6.3f s  (a bare `cairn datasets list` takes %.3f s: process start-up)\n' "$again" "$noop"
dotnet "$root/bench/Cairn.Bench.Data/bin/Release/net10.0/Cairn.Bench.Data.dll" readd "$data" | tail -1
