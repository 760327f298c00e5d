#!/usr/bin/env bash
# Serving throughput and latency of `cairn serve` against a bare Kestrel endpoint, in one run on one machine:
# single-row JSON requests (Open Inference Protocol v2 and JSON rows) through a deployment, with and without
# dynamic batching; MLflow's /invocations beside an MLflow-shaped Python server (gunicorn + Flask + pandas +
# scikit-learn, bench/mlflow_like_server.py, 2 workers); p50/p99 at 1,000 req/s and at half the measured rate (hey,
# rate-limited); 100-row requests in rows/s.
# Usage: bench/serving.sh [seconds per measurement, default 15] [connections, default 32]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
duration="${1:-15}"
connections="${2:-32}"

for tool in wrk hey gunicorn; do
  if ! command -v "$tool" >/dev/null; then
    echo "Installing $tool..." >&2
    (apt-get update -qq && apt-get install -y -qq "$tool") >/dev/null
  fi
done
if ! /usr/bin/python3 -c 'import flask, pandas, sklearn' 2>/dev/null; then
  echo "Installing Flask, pandas and scikit-learn for the Python peer..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-flask python3-pandas python3-sklearn) >/dev/null
fi

build src/Cairn.Cli/Cairn.Cli.csproj bench/Cairn.Bench.KestrelBaseline/Cairn.Bench.KestrelBaseline.csproj

echo "Training the Adult model (cairn quickstart) and deploying it..." >&2
dotnet "$cli" --home "$home" quickstart >/dev/null
dotnet "$cli" --home "$home" deploy adult --model adult-income@champion >/dev/null
dotnet "$cli" --home "$home" deploy adult-unbatched --model adult-income@champion --max-batch-rows 1 >/dev/null

dotnet "$cli" --home "$home" serve --port 5101 --grpc-port 5104 >/dev/null 2>&1 & pids+=($!)
dotnet "$root/bench/Cairn.Bench.KestrelBaseline/bin/Release/net10.0/Cairn.Bench.KestrelBaseline.dll" --urls http://127.0.0.1:5102 >/dev/null 2>&1 & pids+=($!)
# One BLAS/OpenMP thread per worker: libgomp does not survive gunicorn's fork after --preload, and 2 workers use the 2 cores.
OMP_NUM_THREADS=1 ADULT_CSV="$root/examples/adult/adult.csv" /usr/bin/python3 /usr/bin/gunicorn --preload -w 2 -b 127.0.0.1:5103 \
  --chdir "$root/bench" mlflow_like_server:app >/dev/null 2>&1 & pids+=($!)
for url in http://127.0.0.1:5101/v2/health/ready http://127.0.0.1:5102/predict http://127.0.0.1:5103/ping; do
  for _ in $(seq 300); do curl -s -o /dev/null "$url" -X "$([ "${url##*/}" = predict ] && echo POST || echo GET)" && break; sleep 0.2; done
done

# 100 Adult rows in one JSON-rows request.
row="$(sed -n "s/^wrk.body = '{\"rows\":\[\(.*\)\]}'$/\1/p" "$root/bench/row.lua")"
rows100="$(printf '%s,' $(for _ in $(seq 100); do echo "$row" | tr -d ' '; done))"
printf '{"rows":[%s]}' "${rows100%,}" > "$home/rows100.json"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nlocal f = io.open("%s"); wrk.body = f:read("*a"); f:close()\n' "$home/rows100.json" > "$home/rows100.lua"
sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$root/bench/oip.lua" > "$home/oip.json"
sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$root/bench/invocations.lua" > "$home/invocations.json"

measure() { # name url script [connections]
  local c="${4:-$connections}" t=2
  [ "$c" -lt 2 ] && t=1
  wrk -t"$t" -c"$c" -d5s -s "$3" "$2" >/dev/null # warm-up: pools, caches, the path's own code
  local out; out="$(wrk -t"$t" -c"$c" -d"${duration}s" --latency -s "$3" "$2")"
  local rps p50 p99 errors
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  printf '%-34s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${errors:-0}"
  echo "$rps" > "$home/$1.rps"
}

paced() { # name url body-file rate: p50/p99 at a fixed request rate (hey: one worker per 1,000 req/s, at least 4, each paced to its share)
  # More workers than that inflate hey's own latencies: 32 workers at 1,000 req/s measured p99 4.2 ms against bare Kestrel, 4 workers 1.0 ms.
  local workers; workers="$(awk -v r="$4" 'BEGIN { w = int((r + 999) / 1000); print (w < 4 ? 4 : w) }')"
  local per_worker; per_worker="$(awk -v r="$4" -v w="$workers" 'BEGIN { printf "%.2f", r / w }')"
  local out; out="$(hey -z "${duration}s" -c "$workers" -q "$per_worker" -m POST -T application/json -D "$3" "$2")"
  printf '%-34s %10.0f req/s   p50 %-9s p99 %-9s (paced at %s req/s)\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {printf "%.2fms", $3 * 1000}' <<<"$out")" "$(awk '$1=="99%" {printf "%.2fms", $3 * 1000}' <<<"$out")" "$4"
}

# One long warm-up of the server's paths (tiered compilation), then a short one before each measurement (pools, caches).
for path in api/deployments/adult/predict:row.lua v2/models/adult/infer:oip.lua api/deployments/adult/invocations:invocations.lua; do
  wrk -t2 -c"$connections" -d"$((warmup / 3))s" -s "$root/bench/${path#*:}" "http://127.0.0.1:5101/${path%%:*}" >/dev/null
done

echo "wrk: 2 threads, $connections connections, ${duration}s each, on $(nproc) cores shared by client and server"
measure baseline-kestrel http://127.0.0.1:5102/predict "$root/bench/row.lua"
measure baseline-kestrel-oip-body http://127.0.0.1:5102/predict "$root/bench/oip.lua"
measure deployment-open-inference-v2 http://127.0.0.1:5101/v2/models/adult/infer "$root/bench/oip.lua"
measure deployment-json-rows http://127.0.0.1:5101/api/deployments/adult/predict "$root/bench/row.lua"
measure baseline-kestrel-mlflow-body http://127.0.0.1:5102/predict "$root/bench/invocations.lua"
measure deployment-mlflow-invocations http://127.0.0.1:5101/api/deployments/adult/invocations "$root/bench/invocations.lua"
measure python-mlflow-invocations http://127.0.0.1:5103/invocations "$root/bench/invocations.lua"
measure unbatched-open-inference-v2 http://127.0.0.1:5101/v2/models/adult-unbatched/infer "$root/bench/oip.lua"
measure deployment-100-rows http://127.0.0.1:5101/api/deployments/adult/predict "$home/rows100.lua"
measure low-load-open-inference-v2 http://127.0.0.1:5101/v2/models/adult/infer "$root/bench/oip.lua" 1
measure low-load-unbatched http://127.0.0.1:5101/v2/models/adult-unbatched/infer "$root/bench/oip.lua" 1
half="$(awk -v a="$(cat "$home/deployment-open-inference-v2.rps")" 'BEGIN { printf "%d", a / 2 }')"
paced half-rate-open-inference-v2 http://127.0.0.1:5101/v2/models/adult/infer "$home/oip.json" "$half"
paced 1000-per-s-baseline-kestrel http://127.0.0.1:5102/predict "$home/oip.json" 1000
paced 1000-per-s-open-inference-v2 http://127.0.0.1:5101/v2/models/adult/infer "$home/oip.json" 1000
paced 1000-per-s-mlflow-invocations http://127.0.0.1:5101/api/deployments/adult/invocations "$home/invocations.json" 1000

# Each protocol against the bare endpoint receiving the same request body.
for pair in deployment-json-rows:baseline-kestrel deployment-open-inference-v2:baseline-kestrel-oip-body unbatched-open-inference-v2:baseline-kestrel-oip-body \
  deployment-mlflow-invocations:baseline-kestrel-mlflow-body; do
  name="${pair%%:*}" base="${pair##*:}"
  awk -v n="$name" -v a="$(cat "$home/$name.rps")" -v b="$(cat "$home/$base.rps")" 'BEGIN { printf "%-34s %.2f of bare Kestrel\n", n, a / b }'
done
awk -v a="$(cat "$home/deployment-mlflow-invocations.rps")" -v b="$(cat "$home/python-mlflow-invocations.rps")" \
  'BEGIN { printf "%-34s %.1fx the Python server (gunicorn + Flask + scikit-learn)\n", "mlflow /invocations", a / b }'
awk -v a="$(cat "$home/deployment-open-inference-v2.rps")" -v b="$(cat "$home/unbatched-open-inference-v2.rps")" \
  'BEGIN { printf "%-34s %.2fx the unbatched throughput\n", "dynamic batching", a / b }'
awk -v a="$(cat "$home/deployment-100-rows.rps")" 'BEGIN { printf "%-34s %.0f rows/s\n", "100-row requests", a * 100 }'
