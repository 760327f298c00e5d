#!/usr/bin/env bash
# Scale-out on one machine: PostgreSQL, an S3-compatible server (moto), three `cairn serve --deployment` replicas of
# the Adult model behind nginx. Measures, in one run: throughput through nginx with three replicas against one,
# failed requests while one of three is killed (kill -9) and started again under load, how long the restarted
# replica takes to serve, and how long a moved alias takes to reach every replica (PostgreSQL's NOTIFY).
# Usage: bench/cluster.sh [seconds per load run, default 10] [connections, default 32]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
seconds="${1:-10}"
connections="${2:-32}"

command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >/dev/null
command -v hey >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hey) >/dev/null
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
now_ms() { date +%s%3N; }

build src/Cairn.Cli/Cairn.Cli.csproj
start_postgres
export CAIRN_STORE="$(create_database "$postgres_uri")"
s3_port="$(free_port)"
moto_server -H 127.0.0.1 -p "$s3_port" >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break; sleep 0.1; done
curl -s -X PUT "http://127.0.0.1:$s3_port/cairn-bench" >/dev/null
export CAIRN_ARTIFACTS="s3://cairn-bench/cairn" CAIRN_S3_ENDPOINT="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench

cairn() { dotnet "$cli" --home "$home" "$@"; }
echo "Training Adult twice on the team store and deploying it..." >&2
cairn datasets add "$root/examples/adult/adult.csv" --name adult >/dev/null
for _ in 1 2; do
  run="$(cairn train --config "$root/examples/adult/train.yaml" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  cairn models register "$run" --name adult-income --alias champion >/dev/null
done
cairn models set-alias adult-income champion 1 >/dev/null
cairn deploy adult --model adult-income@champion >/dev/null
cairn users create bench --admin --no-token >/dev/null
token="$(cairn tokens create --user bench --name bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"

ports=("$(free_port)" "$(free_port)" "$(free_port)")
replica_pids=()
start_replica() {  # index; dotnet itself in the background (not the cairn function), so $! is the process to kill
  dotnet "$cli" --home "$home" serve --deployment adult --port "${ports[$1]}" --grpc-port 0 --no-monitoring >/dev/null 2>&1 &
  replica_pids[$1]=$!
  pids+=($!)
}
ready() { curl -sf -o /dev/null "http://127.0.0.1:$1/v2/health/ready"; }
for i in 0 1 2; do start_replica "$i"; done
for i in 0 1 2; do for _ in $(seq 300); do ready "${ports[$i]}" && break; sleep 0.1; done; done

# One nginx per upstream set: all three replicas, or the first alone; sets nginx_port (not run in $(...), so its pid is kept).
nginx_for() {  # name, ports...
  local name="$1"; shift
  local folder="$home/nginx-$name" port; port="$(free_port)"
  mkdir -p "$folder"
  {
    echo "worker_processes 1; error_log $folder/error.log warn; pid $folder/nginx.pid; events { worker_connections 4096; }"
    echo "http { access_log off; client_body_temp_path $folder/body; proxy_temp_path $folder/proxy;"
    echo "  fastcgi_temp_path $folder/f; uwsgi_temp_path $folder/u; scgi_temp_path $folder/s;"
    echo "  upstream cairn {"; for p in "$@"; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=2s;"; done; echo "    keepalive 64; }"
    echo "  server { listen 127.0.0.1:$port; location / { proxy_pass http://cairn; proxy_http_version 1.1;"
    echo "    proxy_set_header Connection \"\"; proxy_set_header Host \$host; proxy_connect_timeout 1s;"
    echo "    proxy_next_upstream error timeout http_502 http_503 non_idempotent; proxy_next_upstream_tries 3; } } }"
  } > "$folder/nginx.conf"
  "$nginx_bin" -p "$folder" -c "$folder/nginx.conf" -g "daemon off;" & pids+=($!)
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  nginx_port="$port"
}
nginx_for three "${ports[@]}"; three="$nginx_port"
nginx_for one "${ports[0]}"; one="$nginx_port"

body="$home/row.json"
python3 - "$root/examples/adult/request.json" > "$body" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
print(json.dumps({"rows": rows[:1]}))
EOF
load() {  # port, seconds
  hey -z "${2}s" -c "$connections" -m POST -T application/json -H "Authorization: Bearer $token" -D "$body" \
    "http://127.0.0.1:$1/api/deployments/adult/predict"
}
rps() { grep -E "Requests/sec" | awk '{print $2}'; }

echo "Warming the replicas up (${warmup}s)..." >&2
load "$three" "$warmup" >/dev/null
one_rps="$(load "$one" "$seconds" | rps)"
three_rps="$(load "$three" "$seconds" | rps)"

# kill -9 the first replica under load through the three-replica proxy, then start it again.
load "$three" $(( seconds + 10 )) > "$home/kill.txt" &
hey_pid=$!
sleep 3
kill -9 "${replica_pids[0]}"
sleep 2
restart_start="$(now_ms)"
start_replica 0
for _ in $(seq 600); do ready "${ports[0]}" && break; sleep 0.05; done
restart_ms=$(( $(now_ms) - restart_start ))
wait "$hey_pid"
failed="$(awk '/Status code distribution:/{f=1;next} f && /\[/{ if ($1 != "[200]") s += $2 } END {print s+0}' "$home/kill.txt")"
errors="$(awk '/Error distribution:/{f=1;next} f && /\[/{ gsub(/[][]/, "", $1); s += $1 } END {print s+0}' "$home/kill.txt")"
total="$(awk '/Status code distribution:/{f=1;next} f && /\[/{ s += $2 } END {print s+0}' "$home/kill.txt")"

# Move the alias and time until every replica answers with version 2.
version_of() { curl -s -D - -o /dev/null -H "Authorization: Bearer $token" -H 'content-type: application/json' --data @"$body" \
  "http://127.0.0.1:$1/api/deployments/adult/predict" | tr -d '\r' | awk -F': ' 'tolower($1)=="cairn-model-version"{print $2}'; }
cairn models set-alias adult-income champion 2 >/dev/null
moved="$(now_ms)"
for p in "${ports[@]}"; do for _ in $(seq 1000); do [ "$(version_of "$p")" = "adult-income@2" ] && break; sleep 0.01; done; done
alias_ms=$(( $(now_ms) - moved ))

echo "Through nginx, ${seconds}s each, $connections connections, single-row JSON requests (2 cores shared by all):"
echo "  one replica:    $(printf '%.0f' "$one_rps") req/s"
echo "  three replicas: $(printf '%.0f' "$three_rps") req/s ($(python3 -c "print(f'{$three_rps / $one_rps:.2f}')")x)"
echo "One of three replicas killed (kill -9) under load and restarted:"
echo "  requests answered: $total, non-200: $failed, connection errors: $errors"
echo "  restarted replica ready after ${restart_ms} ms"
sed -n '/Status code distribution:/,$p' "$home/kill.txt" | grep -E '\[' | sed 's/^ */    /' | head -8
echo "Alias moved: every replica answered with the new version ${alias_ms} ms after 'cairn models set-alias' returned"
echo "  (each replica loads, checks and warms the new version before it switches; the notification itself is immediate)"
