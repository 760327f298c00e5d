# Sourced by the bench scripts: Release builds, a temporary Cairn home, and background processes stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
cli="$root/src/Cairn.Cli/bin/Release/net10.0/cairn.dll"
home="$(mktemp -d)"
pids=()
postgres_dir=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$postgres_dir" ]; then "$root/tools/postgres.sh" stop "$postgres_dir"; rm -rf "$postgres_dir"; fi
  rm -rf "$home"
}
trap cleanup EXIT INT TERM

# Seconds of load before a server is measured. On 2 cores under full load, tiered compilation (with dynamic PGO) takes
# 20-40 s to optimize a fresh server's hot paths; measured after 5 s, its background JIT held 15% of the CPU.
warmup="${CAIRN_BENCH_WARMUP:-30}"

build() { for project in "$@"; do dotnet build "$root/$project" -c Release -v quiet -nologo -clp:ErrorsOnly; done; }

# A throwaway PostgreSQL server on 127.0.0.1 (installed if missing), stopped on exit; sets postgres_uri.
# Not to be called in $(...): the stop on exit needs postgres_dir set in this shell.
start_postgres() {
  "$root/tools/postgres.sh" install
  postgres_dir="$(mktemp -d)"
  postgres_uri="$("$root/tools/postgres.sh" start "$postgres_dir")"
}

# A new empty database on that server; prints its URI.
create_database() {
  local name="cairn_bench_$RANDOM$RANDOM"
  psql -q "$1" -c "CREATE DATABASE $name" >/dev/null
  echo "${1%/*}/$name"
}
