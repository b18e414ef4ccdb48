#!/usr/bin/env bash
# Runs one command while the machine is oversubscribed (contract clause X4):
# BUSY processes (default 2x the cores) spin on the CPU until it ends, so
# every thread of the command competes for a CPU. Exits with the command's
# status. The dev preset's ctest tests X4_* run the unit and property
# suites through it (tests/CMakeLists.txt); scripts/flake-hunt.sh is the
# longer hunt (N whole ctest runs).
#
#   scripts/under-load.sh COMMAND [ARGS...]
set -uo pipefail
source "$(dirname "$0")/busy-load.sh"
trap stop_busy_load EXIT
trap 'exit 130' INT TERM
start_busy_load "${BUSY:-$((2 * $(nproc)))}"
"$@"
