#!/usr/bin/env bash
# Echo benchmark: Spindle's echo server beside a bare epoll loop and tokio.
#
#   bench/echo.sh [echo_bench args...]
#   bench/echo.sh --duration 5s --runs 3 --servers spindle-epoll,bare,tokio-current
#
# Builds release binaries, then runs echo_bench (see `echo_bench --help`),
# which pins the server to CPU 0 and the load client to CPU 1 with taskset.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cargo build --release -p spindle -p spindle-bench
cargo build --release -p spindle-rt --example echo

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in
  /*) ;;
  *) target_dir="$root/$target_dir" ;;
esac
bin="$target_dir/release"

if ! command -v taskset >/dev/null 2>&1; then
  echo "echo.sh: taskset missing; installing util-linux" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y util-linux >&2 || echo "echo.sh: could not install util-linux; running unpinned" >&2
  else
    sudo apt-get install -y util-linux >&2 || echo "echo.sh: could not install util-linux; running unpinned" >&2
  fi
fi

exec "$bin/echo_bench" --spindle "$bin/spindle" --rt-echo "$bin/examples/echo" "$@"
