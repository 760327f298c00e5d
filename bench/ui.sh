#!/usr/bin/env bash
# The web UI in Debian's Chromium over many runs: the runs page, filter and sort round trips, a long metric's chart,
# comparing 1,000 runs; with the server's time for each page beside it.
# Usage: bench/ui.sh [runs, default 10000] [points of the long metric, default 1000000]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ -x /usr/bin/chromium ] || { echo "bench/ui.sh: needs Chromium at /usr/bin/chromium (apt-get install chromium)" >&2; exit 1; }
build bench/Cairn.Bench.Ui/Cairn.Bench.Ui.csproj
dotnet "$root/bench/Cairn.Bench.Ui/bin/Release/net10.0/Cairn.Bench.Ui.dll" "${1:-10000}" "${2:-1000000}"
