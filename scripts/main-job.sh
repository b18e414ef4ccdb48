#!/usr/bin/env bash
# The main job: installs the Debian packages, builds everything and runs
# every step of scripts/test.sh (the sanitizer matrix, the fuzz matrix for
# FUZZ_SECONDS per harness, default 60, the OSS-Fuzz simulation, the
# installed package with the example guest, coverage, the i686, aarch64 and
# windows workflows), then prints what ran and what it found.
#
#   scripts/main-job.sh            FUZZ_SECONDS=300 scripts/main-job.sh
#
# It is scripts/test.sh with a longer fuzz budget and the coverage bar
# reported instead of enforced, so CI (which runs scripts/test.sh) runs every
# step a new user's main job runs. Exit status 1 when any test failed or
# anything was found.
cd "$(dirname "$0")/.." || exit 1
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" COVERAGE_BAR=report exec bash scripts/test.sh
