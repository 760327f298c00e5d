#!/usr/bin/env bash
# What authentication and authorization cost on the scoring path: single-row JSON requests through one deployment,
# against a server without authentication and one with it (a service account's predict-scoped token), same home.
# Measured as server CPU time per request at a fixed offered rate, both servers running, in alternating order.
# Usage: bench/auth.sh [seconds per measurement, default 15] [unused, default 32] [rounds, default 6]; RATE=per-worker req/s (250)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
duration="${1:-15}"
connections="${2:-32}"
rounds="${3:-6}"

if ! command -v hey >/dev/null; then
  echo "Installing hey..." >&2
  (apt-get update -qq && apt-get install -y -qq hey) >/dev/null
fi

build src/Cairn.Cli/Cairn.Cli.csproj
echo "Training the Adult model (cairn quickstart) and deploying it..." >&2
dotnet "$cli" --home "$home" quickstart >/dev/null
dotnet "$cli" --home "$home" deploy adult --model adult-income@champion >/dev/null
dotnet "$cli" --home "$home" users create scorer --service --role none --no-token >/dev/null
dotnet "$cli" --home "$home" grants set scorer predict --on deployment:adult >/dev/null
token="$(dotnet "$cli" --home "$home" tokens create --user scorer --name bench --scope predict --json | sed -n 's/.*"secret": "\(cairn_[A-Za-z0-9]*\)".*/\1/p')"
body="$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$root/bench/row.lua")"
printf '%s' "$body" > "$home/row.json"

dotnet "$cli" --home "$home" serve --port 5111 --grpc-port 5113 --no-monitoring >/dev/null 2>&1 & open_pid=$!; pids+=($open_pid)
dotnet "$cli" --home "$home" serve --port 5112 --grpc-port 5114 --no-monitoring --auth >/dev/null 2>&1 & auth_pid=$!; pids+=($auth_pid)
for port in 5111 5112; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/health/ready" && break; sleep 0.2; done
done
status="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -H "Authorization: Bearer $token" --data "$body" \
  http://127.0.0.1:5112/api/deployments/adult/predict)"
[ "$status" = 200 ] || { echo "the authenticated server answered $status to the predict token" >&2; exit 1; }

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system time, in clock ticks
ticks="$(getconf CLK_TCK)"

# Server CPU per request at a fixed offered rate (hey, 16 workers): a server is CPU-bound at saturation, so its
# throughput cost is its CPU cost; unlike req/s at saturation, CPU time does not depend on how the scheduler shares
# two cores between the load generator and two servers (side by side, identical servers differed by up to 20% in req/s).
per_request() { # pid port [header]
  local before; before="$(cpu "$1")"
  local out; out="$(hey -z "${duration}s" -c 16 -q "$rate_per_worker" -m POST -T application/json -D "$home/row.json" ${3:+-H "$3"} \
    "http://127.0.0.1:$2/api/deployments/adult/predict")"
  local after; after="$(cpu "$1")"
  local done_; done_="$(awk '/\[200\]/ { print $2 }' <<<"$out")"
  awk -v b="$before" -v a="$after" -v n="${done_:-0}" -v t="$ticks" 'BEGIN { if (n == 0) { print "nan"; exit } printf "%.2f", (a - b) / t / n * 1e6 }'
}

rate_per_worker="${RATE:-250}"
echo "hey: 16 workers at ${rate_per_worker} req/s each, ${duration}s per measurement, $rounds rounds, on $(nproc) cores shared by client and servers"
for port in 5111 5112; do hey -z 5s -c 16 -m POST -T application/json -D "$home/row.json" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/deployments/adult/predict" >/dev/null; done
ratios=()
for round in $(seq "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    open="$(per_request "$open_pid" 5111)"; auth="$(per_request "$auth_pid" 5112 "Authorization: Bearer $token")"
  else
    auth="$(per_request "$auth_pid" 5112 "Authorization: Bearer $token")"; open="$(per_request "$open_pid" 5111)"
  fi
  ratio="$(awk -v a="$auth" -v o="$open" 'BEGIN { printf "%.3f", o / a }')"
  ratios+=("$ratio")
  printf 'round %s: server CPU per request: no auth %7s us   predict token %7s us   throughput ratio %s\n' "$round" "$open" "$auth" "$ratio"
done
printf 'median throughput ratio (authenticated / open, from CPU per request): %s\n' \
  "$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')"
