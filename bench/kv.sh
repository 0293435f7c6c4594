#!/usr/bin/env bash
# spindle kv against Debian's redis-server 7, loaded by redis-benchmark,
# in one run: requests/s, server CPU per request, memory.
#
#   bench/kv.sh [kv_bench args...]
#   bench/kv.sh --markdown                        # the full run (-n 1000000, 3 rounds)
#   bench/kv.sh --requests 20000 --rounds 1       # a quick check
#   bench/kv.sh --tests set,get --loads 50x16     # some lines only
#   bench/kv.sh --skip-load                       # memory figures only
#   bench/kv.sh --floor --skip-memory             # plus the bare-loop floor (what the kernel costs)
#
# Installs redis-server and redis-tools if missing, builds release
# binaries, raises the descriptor limit (1000 clients and 10,000 idle
# connections), then runs kv_bench (see `kv_bench --help`), which pins both
# servers to CPU 0 and redis-benchmark to CPU 1 with taskset.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "kv.sh: installing ${missing[*]}" >&2
  install "${missing[@]}"
fi
if ! command -v taskset >/dev/null 2>&1; then
  echo "kv.sh: taskset missing; installing util-linux" >&2
  install util-linux || echo "kv.sh: no taskset; running unpinned" >&2
fi

# bare_epoll_echo is the floor that `--floor` runs beside the two servers.
cargo build --release -p spindle -p spindle-bench --bin spindle --bin kv_bench --bin bare_epoll_echo

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in
  /*) ;;
  *) target_dir="$root/$target_dir" ;;
esac

# 10,000 idle connections need a descriptor each on both sides, plus the
# servers' own; kv_bench also raises its soft limit to the hard one.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# kv_bench finds spindle beside itself in target/release.
exec "$target_dir/release/kv_bench" "$@"
