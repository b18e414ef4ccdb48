#!/usr/bin/env bash
# The Windows preset's test emulator: runs a test binary under Wine 64-bit
# and, only when Wine itself lost its connection to the wineserver ("wine
# client error: recvmsg: Connection reset by peer", seen in a CI run of the
# windows step: Wine's own race, a test process starting while the server
# of the previous one exits), runs it once more and says so on stderr. Any other failure, including a test that fails, is
# reported as it is.
set -uo pipefail
out="$(mktemp)" err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT
for attempt in 1 2; do
  /usr/lib/wine/wine64 "$@" >"$out" 2>"$err"
  status=$?
  ((status != 0)) && grep -q "wine client error" "$err" && ((attempt == 1)) || break
  echo "wine-run.sh: Wine lost its server connection (not the test); running it again" >&2
  cat "$err" >&2
done
cat "$out"
cat "$err" >&2
exit "$status"
