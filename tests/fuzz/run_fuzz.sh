#!/bin/sh
# run_fuzz.sh SECONDS TARGET SEED_CORPUS_DIR
# Runs one libFuzzer target for a bounded time. New inputs go to a scratch
# directory so the committed seed corpus is never rewritten; a crash leaves
# its reproducer in the build directory and fails the test (exit 1, not
# libFuzzer's default 77, which meson would read as "skipped").
set -eu
seconds=$1 target=$2 seeds=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -error_exitcode=1 -artifact_prefix="$(pwd)/" "$scratch" "$seeds"
