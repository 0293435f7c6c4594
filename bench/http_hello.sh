#!/usr/bin/env bash
# HTTP keep-alive "hello" benchmark: spindle-rt against tokio, loaded by wrk.
#
#   bench/http_hello.sh [http_bench args...]
#   bench/http_hello.sh --duration 5s --rounds 3 --connections 100,1000
#   bench/http_hello.sh --servers spindle-current,tokio-current   # one pair only
#   bench/http_hello.sh --markdown     # also print tables for bench/RESULTS.md
#   bench/http_hello.sh --servers spindle-current,tokio-current --spindle-args "--io-coalesce-us 40"
#
# Installs wrk if missing, builds release binaries, raises the descriptor
# limit, then runs http_bench (see `http_bench --help`), which pins
# current-thread servers to CPU 0 and wrk to CPU 1 with taskset.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

if ! command -v wrk >/dev/null 2>&1; then
  echo "http_hello.sh: wrk missing; installing it" >&2
  install wrk
fi
if ! command -v taskset >/dev/null 2>&1; then
  echo "http_hello.sh: taskset missing; installing util-linux" >&2
  as_root apt-get install -y util-linux >&2 || echo "http_hello.sh: no taskset; running unpinned" >&2
fi

cargo build --release -p spindle-bench --bins

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in
  /*) ;;
  *) target_dir="$root/$target_dir" ;;
esac

# 1000 connections need descriptors on both sides; http_bench also raises
# its soft limit to the hard one before starting children.
ulimit -n 65536 2>/dev/null || true

exec "$target_dir/release/http_bench" "$@"
