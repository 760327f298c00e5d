#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs and starts what the tests need, builds with warnings as errors, runs every test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

# PostgreSQL for the team-mode store's tests: one throwaway server on 127.0.0.1 for the whole run, each test class in its own databases.
tools/postgres.sh install
postgres_dir="$(mktemp -d)"
trap 'tools/postgres.sh stop "$postgres_dir"; rm -rf "$postgres_dir"' EXIT
CAIRN_TEST_POSTGRES="$(tools/postgres.sh start "$postgres_dir")"
export CAIRN_TEST_POSTGRES

# Chromium for the web UI's end-to-end tests: Playwright drives Debian's build (its own browser download cannot work here).
if [ ! -x /usr/bin/chromium ]; then
  command -v apt-get >/dev/null || { echo "test.sh: Chromium (/usr/bin/chromium) is required for the UI tests" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# nginx for the cluster test: three replicas behind a real load balancer (Debian's package; the test runs its own instance).
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  command -v apt-get >/dev/null || { echo "test.sh: nginx is required for the cluster test" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi

# An S3-compatible server (moto, from the machine's Python) on 127.0.0.1 for the S3 artifact store's tests; each test makes its own bucket.
command -v moto_server >/dev/null || { echo "test.sh: moto_server (Python package moto) is required for the S3 tests" >&2; exit 1; }
s3_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
moto_server -H 127.0.0.1 -p "$s3_port" >/dev/null 2>&1 &
s3_pid=$!
trap 'kill "$s3_pid" 2>/dev/null || true; tools/postgres.sh stop "$postgres_dir"; rm -rf "$postgres_dir"' EXIT
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break; sleep 0.1; done
export CAIRN_TEST_S3="http://127.0.0.1:$s3_port/"

dotnet restore Cairn.slnx -v quiet
dotnet build Cairn.slnx -c Release --no-restore -v quiet -nologo -clp:ErrorsOnly
# A failed test prints its message and stack (minimal verbosity); passing ones stay quiet.
dotnet test Cairn.slnx -c Release --no-build -v quiet -nologo --logger "console;verbosity=minimal" "$@"
