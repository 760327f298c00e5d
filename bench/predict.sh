#!/usr/bin/env bash
# Batch scoring: `cairn predict` on a CSV of N rows (the Adult test file repeated) with the Adult LightGBM model,
# end to end (read, parse, score on all cores, write), beside ONNX Runtime and the compiled engine called in process on the same rows already
# loaded as a table (no reading, parsing or writing) in the same chunks on all cores.
# Also the same scoring into Parquet.
# Usage: bench/predict.sh [rows, default 1000000]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build src/Cairn.Cli/Cairn.Cli.csproj bench/Cairn.Bench.Data/Cairn.Bench.Data.csproj

rows="${1:-1000000}"
cairn() { dotnet "$cli" --home "$home/cairn" "$@"; }
cairn datasets add "$root/examples/adult/adult.csv" --name adult >/dev/null
run=$(cairn train --config "$root/examples/adult/train.yaml" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cairn models register "$run" --name adult-income --alias champion >/dev/null

python3 - "$root/examples/adult/adult_test.csv" "$home/input.csv" "$rows" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
header, body, n = lines[0], lines[1:], int(sys.argv[3])
with open(sys.argv[2], "w") as out:
    out.write(header + "\n")
    for i in range(n):
        out.write(body[i % len(body)] + "\n")
PY

start=$(date +%s.%N)
cairn predict --model adult-income@champion --input "$home/input.csv" -o "$home/scored.csv"
end=$(date +%s.%N)
printf 'cairn predict, whole process:    %s rows in %.2f s: %.0f rows/s\n' "$rows" "$(echo "$end - $start" | bc -l)" "$(echo "$rows / ($end - $start)" | bc -l)"
start=$(date +%s.%N)
cairn predict --model adult-income@champion --input "$home/input.csv" -o "$home/scored.parquet" >/dev/null
end=$(date +%s.%N)
printf 'cairn predict to Parquet, whole process: %s rows in %.2f s: %.0f rows/s (%s bytes)\n' "$rows" "$(echo "$end - $start" | bc -l)" "$(echo "$rows / ($end - $start)" | bc -l)" "$(stat -c %s "$home/scored.parquet")"

blob() { local hash; hash=$(cairn runs show "$run" --json | python3 -c "import json,sys; print([a['content_hash'] for a in json.load(sys.stdin)['artifacts'] if a['path']=='$1'][0])"); echo "$home/cairn/artifacts/sha256/${hash:0:2}/${hash:2}"; }
dotnet "$root/bench/Cairn.Bench.Data/bin/Release/net10.0/Cairn.Bench.Data.dll" score "$(blob model/model.onnx)" "$(blob model/signature.json)" "$home/input.csv"
