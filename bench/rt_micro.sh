#!/usr/bin/env bash
# Runtime micro-benchmarks: spindle-rt against tokio, side by side.
#
# Builds `rt_micro` in release mode and runs it with the given arguments,
# e.g.
#   bench/rt_micro.sh                      # full default run (~3 min on 2 cores)
#   bench/rt_micro.sh --scale 10 --rounds 3  # quick look
#   bench/rt_micro.sh --only spawn,mpsc1 --markdown
#   bench/rt_micro.sh --flavor both        # once spindle-rt has multi-thread
# Honours CARGO_TARGET_DIR. See `rt_micro --help` for every flag.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p spindle-bench --bin rt_micro
target_dir="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}"
exec timeout 1800 "$target_dir/release/rt_micro" "$@"
