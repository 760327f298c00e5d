#!/usr/bin/env bash
# What authentication and authorization cost on the scoring path: single-row JSON requests through one deployment,
# against a server without authentication and one with it (a service account's predict-scoped token), same home,
# measured alternately in one run so the two see the same machine. Reports each rate and the ratio.
# Usage: bench/auth.sh [seconds per measurement, default 15] [connections, default 32] [rounds, default 3]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
duration="${1:-15}"
connections="${2:-32}"
rounds="${3:-3}"

if ! command -v wrk >/dev/null; then
  echo "Installing wrk..." >&2
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

build src/Cairn.Cli/Cairn.Cli.csproj
echo "Training the Adult model (cairn quickstart) and deploying it..." >&2
dotnet "$cli" --home "$home" quickstart >/dev/null
dotnet "$cli" --home "$home" deploy adult --model adult-income@champion >/dev/null
dotnet "$cli" --home "$home" users create scorer --service --role none --no-token >/dev/null
dotnet "$cli" --home "$home" grants set scorer predict --on deployment:adult >/dev/null
token="$(dotnet "$cli" --home "$home" tokens create --user scorer --name bench --scope predict --json | sed -n 's/.*"secret": "\(cairn_[A-Za-z0-9]*\)".*/\1/p')"

dotnet "$cli" --home "$home" serve --port 5111 --grpc-port 5113 --no-monitoring >/dev/null 2>&1 & pids+=($!)
dotnet "$cli" --home "$home" serve --port 5112 --grpc-port 5114 --no-monitoring --auth >/dev/null 2>&1 & pids+=($!)
for port in 5111 5112; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/health/ready" && break; sleep 0.2; done
done

sed "s/^wrk.headers\[\"Content-Type\"\] = \"application\/json\"$/&\nwrk.headers[\"Authorization\"] = \"Bearer $token\"/" "$root/bench/row.lua" > "$home/row-auth.lua"
status="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -H "Authorization: Bearer $token" \
  --data "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$root/bench/row.lua")" http://127.0.0.1:5112/api/deployments/adult/predict)"
[ "$status" = 200 ] || { echo "the authenticated server answered $status to the predict token" >&2; exit 1; }

rate() { # url script
  wrk -t2 -c"$connections" -d"${duration}s" -s "$2" "$1" | awk '/Requests\/sec/ {print $2}'
}

echo "wrk: 2 threads, $connections connections, ${duration}s each, $rounds rounds, on $(nproc) cores shared by client and server"
for url in 5111 5112; do wrk -t2 -c"$connections" -d5s -s "$home/row-auth.lua" "http://127.0.0.1:$url/api/deployments/adult/predict" >/dev/null; done
open_total=0; auth_total=0
for round in $(seq "$rounds"); do
  open="$(rate http://127.0.0.1:5111/api/deployments/adult/predict "$root/bench/row.lua")"
  auth="$(rate http://127.0.0.1:5112/api/deployments/adult/predict "$home/row-auth.lua")"
  printf 'round %s: no auth %10s req/s   predict token %10s req/s   ratio %s\n' "$round" "$open" "$auth" "$(awk -v a="$auth" -v o="$open" 'BEGIN { printf "%.3f", a / o }')"
  open_total="$(awk -v t="$open_total" -v x="$open" 'BEGIN { print t + x }')"
  auth_total="$(awk -v t="$auth_total" -v x="$auth" 'BEGIN { print t + x }')"
done
printf 'mean ratio (authenticated / open): %s\n' "$(awk -v a="$auth_total" -v o="$open_total" 'BEGIN { printf "%.3f", a / o }')"
