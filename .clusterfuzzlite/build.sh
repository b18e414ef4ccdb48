#!/bin/bash -eu
# ClusterFuzzLite build: the OSS-Fuzz build script, unchanged (same
# harnesses, seed corpora, .options and dictionaries, same contract).
exec bash -eu "$SRC/wrt-platform/oss-fuzz/build.sh"
