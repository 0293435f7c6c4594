#!/usr/bin/env bash
# Static files: `spindle http` against Debian's nginx, same worker count,
# side by side in one run, loaded by wrk: requests/s, p99 latency, server
# CPU per request (master and workers), ratios and the issue's targets.
#
#   bench/http_static.sh [http_static_bench args...]
#   bench/http_static.sh --markdown                 # the full run (~9 min)
#   bench/http_static.sh --duration 3s --rounds 1   # a quick check
#   bench/http_static.sh --files 1k --connections 100 --workers 1
#   bench/http_static.sh --servers nginx            # nginx's figures alone
#   bench/http_static.sh --spindle-cmd nginx        # nginx stand-in for spindle
#
# Installs nginx-light and wrk if missing, builds release binaries, raises
# the descriptor limit, then runs http_static_bench (see
# `http_static_bench --help`), which pins 1-worker servers to CPU 0 and wrk
# to CPU 1 with taskset (2-worker servers run unpinned).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

missing=()
# nginx lives in /usr/sbin, which a non-root PATH may lack.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "http_static.sh: installing ${missing[*]}" >&2
  install "${missing[@]}"
fi
if ! command -v taskset >/dev/null 2>&1; then
  echo "http_static.sh: taskset missing; installing util-linux" >&2
  install util-linux || echo "http_static.sh: no taskset; running unpinned" >&2
fi

nginx_bin=/usr/sbin/nginx
[ -x "$nginx_bin" ] || nginx_bin="$(command -v nginx)"

cargo build --release -p spindle -p spindle-bench --bin spindle --bin http_static_bench

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in
  /*) ;;
  *) target_dir="$root/$target_dir" ;;
esac

# 1000 connections need a descriptor each on both sides, plus the
# servers' own; http_static_bench also raises its soft limit to the hard one.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# http_static_bench finds spindle beside itself in target/release. A later
# --nginx in "$@" overrides this one.
exec "$target_dir/release/http_static_bench" --nginx "$nginx_bin" "$@"
