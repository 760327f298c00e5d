#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs and starts what the tests need, builds with warnings as errors, runs every test.
# Later capabilities (the S3-compatible server, Chromium) add their set-up here.
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

dotnet restore Cairn.slnx -v quiet
dotnet build Cairn.slnx -c Release --no-restore -v quiet -nologo -clp:ErrorsOnly
dotnet test Cairn.slnx -c Release --no-build -v quiet -nologo "$@"
