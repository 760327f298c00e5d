#!/usr/bin/env bash
# Admission under overload: a single-row client's latency while 1,000-row requests arrive on many connections, beside
# the same client on an idle server, in one run. Large requests are admitted by their size before their body is read,
# so the overload turns into 429s instead of a queue of parsed bodies.
# Usage: bench/overload.sh [seconds, default 15] [connections of the large client, default 600] [deploy --max-queue-mib, default the default]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
duration="${1:-15}"
connections="${2:-600}"
budget=(); [ -n "${3:-}" ] && budget=(--max-queue-mib "$3")

for tool in wrk hey; do
  if ! command -v "$tool" >/dev/null; then
    echo "Installing $tool..." >&2
    (apt-get update -qq && apt-get install -y -qq "$tool") >/dev/null
  fi
done

build src/Cairn.Cli/Cairn.Cli.csproj
echo "Training the Adult model (cairn quickstart) and deploying it..." >&2
dotnet "$cli" --home "$home" quickstart >/dev/null
dotnet "$cli" --home "$home" deploy adult --model adult-income@champion --max-batch-rows 1000 "${budget[@]}" >/dev/null
ulimit -n 65536 2>/dev/null || true
dotnet "$cli" --home "$home" serve --port 5111 --no-monitoring >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:5111/v2/health/ready && break; sleep 0.2; done

row="$(sed -n "s/^wrk.body = '{\"rows\":\[\(.*\)\]}'$/\1/p" "$root/bench/row.lua" | tr -d ' ')"
printf '{"rows":[%s]}' "$row" > "$home/one.json"
printf '{"rows":[%s]}' "$(printf "$row,%.0s" $(seq 999))$row" > "$home/large.json"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nlocal f = io.open("%s"); wrk.body = f:read("*a"); f:close()\n' "$home/large.json" > "$home/large.lua"
url=http://127.0.0.1:5111/api/deployments/adult/predict

single() { # label: one client, one request at a time, for $duration seconds
  local out; out="$(hey -z "${duration}s" -c 1 -m POST -T application/json -D "$home/one.json" "$url")"
  printf '%-40s p50 %8s  p99 %8s  %s\n' "$1" "$(awk '$1=="50%" {printf "%.2fms", $3 * 1000}' <<<"$out")" \
    "$(awk '$1=="99%" {printf "%.2fms", $3 * 1000}' <<<"$out")" "$(grep -E '^\s+\[[0-9]+\]' <<<"$out" | tr -s ' ' | tr '\n' ' ')"
  awk '$1=="50%" {print $3}' <<<"$out" > "$home/$2.p50"
}

echo "$(nproc) cores shared by the clients and the server; large requests: $(wc -c < "$home/large.json") bytes, 1,000 rows"
hey -z 5s -c 4 -m POST -T application/json -D "$home/one.json" "$url" >/dev/null # warm-up
single "single-row client, idle server" idle
wrk -t2 -c"$connections" -d"$((duration + 4))s" --latency -s "$home/large.lua" "$url" > "$home/large.out" 2>&1 &
sleep 2
single "single-row client, $connections large conns" loaded
wait "$!" || true
awk '/Requests\/sec/ {rps=$2} /Non-2xx/ {refused=$NF} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {
  printf "large client: %s req/s, p50 %s, p99 %s, non-2xx (429) %s\n", rps, p50, p99, refused + 0 }' "$home/large.out"
awk -v idle="$(cat "$home/idle.p50")" -v loaded="$(cat "$home/loaded.p50")" 'BEGIN { printf "single-row p50 under overload / idle: %.1fx\n", loaded / idle }'
