#!/usr/bin/env bash
# Redis's own test suite against spindle kv, with redis-server beside it in
# the same run: how much of Redis's behaviour, as Redis tests it, spindle
# reproduces.
#
#   bench/redis_tests.sh                       # the default units, both servers
#   bench/redis_tests.sh type/list keyspace    # some units only
#   SERVERS=spindle bench/redis_tests.sh       # spindle only
#   bench/redis_tests.sh --harness integration/aof unit/shutdown
#                                              # units that start servers
#   bench/redis_tests.sh --skiptest NAME UNIT  # one more test skipped
#
# The suite is the `tests/` folder of the Redis source that matches the
# installed redis-server: Debian's source package, fetched once with
# `apt-get source` (a deb-src entry is added for the download and removed
# after) into target/redis-src. Nothing of it enters this repository.
#
# Each unit runs in Redis's external-server mode (`runtest --host --port
# --single unit/NAME`) against a fresh server on a free port. Tests that
# external mode cannot run are skipped by the suite itself (tag
# `external:skip`), and so are replication (`needs:repl`) and DEBUG
# internals (`needs:debug`), which spindle does not have. The tests listed
# in bench/redis_tests.skip are skipped too: each needs a feature outside
# spindle's scope (streams, GEO, scripting), and without the skip the
# first such command ends its whole unit. `--ignore-encoding` is passed:
# spindle reports Redis 7.2's encoding names (small lists and sets are
# `listpack`), which the 7.0 suite's encoding asserts reject.
#
# `--harness` runs units that start servers of their own (tagged
# `external:skip`: integration/aof, unit/shutdown, unit/obuf-limits ...)
# through Redis's own harness instead, in a copy of the suite whose
# `src/redis-server` becomes `spindle kv` (for the spindle column) or
# Debian's redis-server, beside the installed redis-cli, redis-benchmark
# and redis-check-aof. Units are then named with their folder.
#
# `--skiptest NAME` (repeatable, before the units) skips one more test by
# name, or by regexp if NAME starts with `/`, as runtest's option of that
# name: for a test that checks a behaviour spindle changes on purpose
# and that would otherwise end its unit. For example, spindle refuses
# CONFIG SET dir and dbfilename at run time, protected configs or not:
#
#   SERVERS=spindle bench/redis_tests.sh --harness \
#     --skiptest 'cannot modify protected configuration - local' unit/introspection
#
# (The same unit's "config during loading" then fails on its one CONFIG
# SET dir: Redis answers LOADING there only because the suite's config
# enables protected configs; spindle's refusal is what Redis answers
# with them disabled, its default.)
#
# Prints one line per unit and server: tests passed, failed, and whether
# the unit ended early (an exception or a timeout). Logs are kept in
# target/redis-tests/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

default_units=(
  type/string type/incr type/list type/list-2 type/list-3 type/hash type/set type/zset
  keyspace expire scan multi pubsub info info-command dump auth protocol querybuf limits
  maxmemory lazyfree slowlog latency-monitor introspection introspection-2 other
  hyperloglog bitops sort obuf-limits networking quit pause shutdown
)
harness=0
skips=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --harness) harness=1; shift ;;
    --skiptest)
      [ "$#" -ge 2 ] || { echo "redis_tests.sh: --skiptest needs a test name" >&2; exit 2; }
      # After --skipfile on runtest's line: the file replaces the list,
      # --skiptest adds to it.
      skips+=(--skiptest "$2"); shift 2 ;;
    *) break ;;
  esac
done
if [ "$harness" = 1 ] && [ "$#" -eq 0 ]; then
  echo "redis_tests.sh: --harness needs units (integration/aof ...)" >&2; exit 2
fi
units=("$@")
[ "${#units[@]}" -gt 0 ] || units=("${default_units[@]}")
servers="${SERVERS:-spindle redis}"
unit_timeout="${UNIT_TIMEOUT:-600}"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v tclsh >/dev/null 2>&1 || missing+=(tcl)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "redis_tests.sh: installing ${missing[*]}" >&2
  install "${missing[@]}"
fi

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in
  /*) ;;
  *) target_dir="$root/$target_dir" ;;
esac

# --- the suite: Debian's source of the installed redis-server --------------
version="$(redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')"
src_root="$target_dir/redis-src"
suite="$src_root/redis-$version"
if [ ! -x "$suite/runtest" ]; then
  mkdir -p "$src_root"
  # A deb-src twin of the machine's own Debian sources, for this download:
  # from deb822 files (Debian 12's default) or from one-line sources.list.
  list=/etc/apt/sources.list.d/spindle-redis-src.sources
  if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    for f in /etc/apt/sources.list.d/*.sources; do
      [ "$f" = "$list" ] || { cat "$f"; echo; }
    done | sed 's/^Types: .*/Types: deb-src/' | as_root tee "$list" >/dev/null
  elif grep -q '^deb ' /etc/apt/sources.list 2>/dev/null; then
    list=/etc/apt/sources.list.d/spindle-redis-src.list
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | as_root tee "$list" >/dev/null
  else
    echo "redis_tests.sh: no Debian apt sources to derive a deb-src entry from" >&2
    exit 1
  fi
  trap 'as_root rm -f "$list"' EXIT
  as_root apt-get update -qq >&2
  (cd "$src_root" && apt-get source --download-only "redis=$(dpkg-query -W -f='${Version}' redis-server)" >&2)
  as_root rm -f "$list"
  trap - EXIT
  tar -xzf "$src_root/redis_$version.orig.tar.gz" -C "$src_root"
fi
[ -x "$suite/runtest" ] || { echo "redis_tests.sh: no runtest in $suite" >&2; exit 1; }

cargo build --release -p spindle --bin spindle >&2
spindle="$target_dir/release/spindle"


logs="$target_dir/redis-tests"
mkdir -p "$logs"

# A copy of the suite for --harness, with `server`'s redis-server.
harness_copy() {
  local server="$1" copy="$target_dir/redis-harness/$1"
  if [ ! -x "$copy/runtest" ]; then
    rm -rf "$copy" && mkdir -p "$copy/src"
    cp -a "$suite/runtest" "$suite/tests" "$copy/"
    for tool in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
      ln -sf "$(command -v "$tool" || echo /usr/bin/$tool)" "$copy/src/$tool"
    done
  fi
  rm -rf "$copy/tests/tmp" && mkdir -p "$copy/tests/tmp"
  case "$server" in
    # exec keeps the pid the harness waits on; spindle logs the " PID: N"
    # banner the harness looks for once it listens (always-show-logo).
    spindle) printf '#!/bin/sh\nexec "%s" kv "$@" 2>&1\n' "$spindle" >"$copy/src/redis-server" ;;
    redis) printf '#!/bin/sh\nexec "%s" "$@"\n' "$(command -v redis-server)" >"$copy/src/redis-server" ;;
  esac
  chmod +x "$copy/src/redis-server"
  echo "$copy"
}

# One result line: tests passed, failed, skipped, and how the unit ended.
report() {
  local unit="$1" server="$2" log="$3" status="$4" plain passed failed skipped ended
  # NUL bytes too (a server's log can hold some): bash drops them with a
  # warning.
  plain="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | tr -d '\000')"
  passed="$(grep -c '^\[ok\]' <<<"$plain" || true)"
  failed="$(grep -c '^\[err\]' <<<"$plain" || true)"
  skipped="$(grep -c '^\[ignore\]\|^\[skip\]' <<<"$plain" || true)"
  ended=complete
  if grep -q '^\[exception\]' <<<"$plain"; then ended=exception
  elif grep -q '^\[TIMEOUT\]' <<<"$plain" || [ "$status" -eq 124 ]; then ended=timeout
  elif ! grep -q 'The End' <<<"$plain"; then ended="aborted (see $log)"
  fi
  printf '%-16s %-8s %6s %6s %6s  %s\n' "$unit" "$server" "$passed" "$failed" "$skipped" "$ended"
}

printf '%-16s %-8s %6s %6s %6s  %s\n' unit server passed failed skipped ended
for unit in "${units[@]}"; do
  for server in $servers; do
    if [ "$harness" = 1 ]; then
      log="$logs/harness.$(echo "$unit" | tr / _).$server.log"
      copy="$(harness_copy "$server")"
      status=0
      (cd "$copy" && timeout "$unit_timeout" ./runtest --single "$unit" --clients 1 \
        --baseport "$((40000 + RANDOM % 10000))" --tags -needs:repl --ignore-encoding \
        --skipfile "$root/bench/redis_tests.skip" ${skips[@]+"${skips[@]}"} --timeout 120) >"$log" 2>&1 || status=$?
      report "$unit" "$server" "$log" "$status"
      continue
    fi
    port="$(free_port)"
    log="$logs/$(echo "$unit" | tr / _).$server.log"
    # Each server in a data folder of its own: tests SAVE, DEBUG RELOAD
    # and SHUTDOWN, which write dump.rdb where the server runs, and a file
    # left there would be loaded by the next server.
    data="$logs/data.$(echo "$unit" | tr / _).$server"
    rm -rf "$data" && mkdir -p "$data"
    case "$server" in
      spindle) "$spindle" kv --port "$port" --save "" --dir "$data" >"$log.server" 2>&1 & ;;
      redis) redis-server --port "$port" --save "" --appendonly no --dir "$data" >"$log.server" 2>&1 & ;;
      *) echo "unknown server $server" >&2; exit 2 ;;
    esac
    pid=$!
    for _ in $(seq 100); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.05
    done
    status=0
    # A random --baseport per run: runtest takes its own helper port just
    # below it, and two runs at once (CI beside a session) would collide
    # on the default. It also checks port+10000 (a cluster bus port), so
    # the base stays below 55535.
    (cd "$suite" && timeout "$unit_timeout" ./runtest --host 127.0.0.1 --port "$port" \
      --single "unit/$unit" --baseport "$((40000 + RANDOM % 10000))" --tags -needs:repl --tags -needs:debug --ignore-encoding \
      --skipfile "$root/bench/redis_tests.skip" ${skips[@]+"${skips[@]}"} --timeout 120) >"$log" 2>&1 || status=$?
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    report "$unit" "$server" "$log" "$status"
  done
done
echo "logs: $logs" >&2
