#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for tests and benchmarks.
#   tools/postgres.sh install      installs the server from Debian's packages if it is missing
#   tools/postgres.sh start DIR    creates a cluster in DIR, starts it on a free port, prints its connection URI
#   tools/postgres.sh stop DIR     stops it (DIR can then be removed)
set -euo pipefail

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# initdb refuses to run as root, so root runs the server as the postgres user.
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  install)
    if [ -z "$(bin_dir)" ] || [ ! -x "$(bin_dir)/postgres" ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    fi
    ;;
  start)
    dir="${2:?usage: postgres.sh start DIR}"
    bin="$(bin_dir)"
    [ -x "$bin/postgres" ] || { echo "postgres.sh: PostgreSQL is not installed; run tools/postgres.sh install" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    as_owner "$bin/initdb" -D "$dir/data" -U cairn -A trust -E UTF8 --no-locale >/dev/null
    # Durability settings stay at their defaults: tests and benchmarks measure the real thing.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null
    echo "postgresql://cairn@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir="${2:?usage: postgres.sh stop DIR}"
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: tools/postgres.sh install | start DIR | stop DIR" >&2
    exit 2
    ;;
esac
