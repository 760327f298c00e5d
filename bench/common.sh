# Sourced by the bench scripts: Release builds, a temporary Cairn home, and background processes stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
cli="$root/src/Cairn.Cli/bin/Release/net10.0/cairn.dll"
home="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$home"; }
trap cleanup EXIT INT TERM

build() { for project in "$@"; do dotnet build "$root/$project" -c Release -v quiet -nologo -clp:ErrorsOnly; done; }
