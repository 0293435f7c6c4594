#!/usr/bin/env bash
# redis-py's test suite against spindle kv, with redis-server beside it in
# the same run: how much of Redis's behaviour, as the most used Python
# client tests it, spindle reproduces, in RESP2 and in RESP3.
#
#   bench/redis_py_tests.sh                    # both servers, both protocols
#   SERVERS=spindle PROTOCOLS=3 bench/redis_py_tests.sh
#   bench/redis_py_tests.sh -k zadd            # extra arguments go to pytest
#
# The suite is the `tests/` folder of redis-py's sdist (redis==5.0.8,
# fetched once with `pip download` into target/redis-py); it runs in a
# venv there (target/redis-py/venv) with pytest and the plugins it needs.
# Nothing of it enters this repository.
#
# Each (server, protocol) pair gets a fresh server on a free loopback port,
# in a data folder of its own, and one pytest run (`--redis-url`,
# `--protocol`) of the sync and asyncio test files below, bounded by
# RUN_TIMEOUT seconds and 60 s a test. Module, cluster, sentinel, TLS and
# replica tests are left out by their pytest markers and files; the tests
# listed in bench/redis_py_tests.skip are deselected, each with its reason
# (a feature outside spindle's scope, or a test that cannot pass against
# a local redis-server either). Both servers run with
# `--enable-debug-command yes`: redis-py's tests fake server errors with
# DEBUG ERROR, which Redis 7 (and spindle) refuse by default.
#
# Prints passed, failed, errors and skipped per server and protocol, then
# the tests that fail on spindle but pass on redis-server. Logs and JUnit
# reports are kept in target/redis-py/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

servers="${SERVERS:-spindle redis}"
protocols="${PROTOCOLS:-2 3}"
run_timeout="${RUN_TIMEOUT:-1200}"
redis_py=5.0.8

sync_files=(
  test_commands test_pipeline test_pubsub test_connection test_connection_pool
  test_encoding test_monitor test_hash test_lock test_credentials test_command_parser
  test_connect test_retry test_multiprocessing test_helpers
)
async_files=(
  test_commands test_pipeline test_pubsub test_connection test_connection_pool
  test_encoding test_monitor test_hash test_lock test_credentials test_connect
  test_retry test_cwe_404
)

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "redis_py_tests.sh: installing ${missing[*]}" >&2
  install "${missing[@]}"
fi

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in
  /*) ;;
  *) target_dir="$root/$target_dir" ;;
esac

# --- the suite and its venv --------------------------------------------------
work="$target_dir/redis-py"
venv="$work/venv"
suite="$work/redis-$redis_py"
mkdir -p "$work"
if ! "$venv/bin/python" -c 'import redis, pytest, pytest_asyncio, pytest_timeout, async_timeout' 2>/dev/null ||
  [ "$("$venv/bin/python" -c 'import redis; print(redis.__version__)' 2>/dev/null)" != "$redis_py" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "pytest==7.4.4" "pytest-asyncio==0.21.2" "pytest-timeout==2.4.0" "async-timeout>=4.0.3" packaging >&2
  "$venv/bin/pip" install -q --disable-pip-version-check --no-binary :all: --no-deps "redis==$redis_py" >&2
fi
if [ ! -f "$suite/tests/conftest.py" ]; then
  "$venv/bin/pip" download -q --disable-pip-version-check --no-binary :all: --no-deps \
    -d "$work" "redis==$redis_py" >&2
  tar -xzf "$work/redis-$redis_py.tar.gz" -C "$work"
fi

cargo build --release -p spindle --bin spindle >&2
spindle="$target_dir/release/spindle"


# Starts $1 (spindle or redis) on a free port in data folder $2, logging
# to $3; sets `port` and `pid`. Tries another port if the server exits.
start_server() {
  local server="$1" data="$2" log="$3"
  for _ in 1 2 3 4 5; do
    port="$(free_port)"
    rm -rf "$data" && mkdir -p "$data"
    case "$server" in
      spindle) "$spindle" kv --bind 127.0.0.1 --port "$port" --save "" --enable-debug-command yes \
        --dir "$data" >"$log" 2>&1 & ;;
      redis) redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --enable-debug-command yes --dir "$data" >"$log" 2>&1 & ;;
      *) echo "unknown server $server" >&2; exit 2 ;;
    esac
    pid=$!
    for _ in $(seq 100); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "redis_py_tests.sh: $server did not start (see $log)" >&2
  exit 1
}

deselect=()
while read -r prefix _; do
  deselect+=(--deselect "$prefix")
done < <(sed 's/#.*//' "$root/bench/redis_py_tests.skip" | grep -v '^[[:space:]]*$')

files=()
for f in "${sync_files[@]}"; do files+=("tests/$f.py"); done
for f in "${async_files[@]}"; do files+=("tests/test_asyncio/$f.py"); done

# One line per test from a JUnit report: outcome (passed, failed, error,
# skipped) and pytest's id; a test with a failure and a teardown error
# counts once, as an error.
outcomes() {
  "$venv/bin/python" - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
rank = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
seen = {}
for case in ET.parse(sys.argv[1]).iter("testcase"):
    parts = case.get("classname", "").split(".")
    if parts[-1][:1].isupper():
        parts, cls = parts[:-1], [parts[-1]]
    else:
        cls = []
    name = "::".join(["/".join(parts) + ".py", *cls, case.get("name", "").replace(" ", "_")])
    tags = {child.tag for child in case}
    out = "error" if "error" in tags else "failed" if "failure" in tags else "skipped" if "skipped" in tags else "passed"
    if rank[out] >= rank[seen.get(name, "passed")]:
        seen[name] = out
for name, out in seen.items():
    print(out, name)
EOF
}

logs="$work/logs"
mkdir -p "$logs"
printf '%-8s %-6s %7s %7s %7s %7s  %s\n' server proto passed failed errors skipped ended
for proto in $protocols; do
  for server in $servers; do
    log="$logs/$server.resp$proto.log"
    start_server "$server" "$logs/data.$server.resp$proto" "$log.server"
    status=0
    (cd "$suite" && timeout "$run_timeout" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
      -o asyncio_mode=auto -W ignore --timeout 60 \
      -m "not onlycluster and not redismod and not ssl and not replica" \
      --redis-url "redis://127.0.0.1:$port/0" --protocol "$proto" \
      --junitxml "$logs/$server.resp$proto.xml" "${deselect[@]}" "$@" "${files[@]}") >"$log" 2>&1 || status=$?
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    ended=complete
    if [ "$status" -eq 124 ]; then ended="timeout (see $log)"
    elif [ ! -s "$logs/$server.resp$proto.xml" ] || [ "$status" -gt 1 ]; then ended="aborted (see $log)"
    fi
    if [ -s "$logs/$server.resp$proto.xml" ]; then
      outcomes "$logs/$server.resp$proto.xml" | LC_ALL=C sort -k2 >"$logs/$server.resp$proto.outcomes"
    else
      : >"$logs/$server.resp$proto.outcomes"
    fi
    count() { grep -c "^$1 " "$logs/$server.resp$proto.outcomes" || true; }
    printf '%-8s %-6s %7s %7s %7s %7s  %s\n' "$server" "RESP$proto" \
      "$(count passed)" "$(count failed)" "$(count error)" "$(count skipped)" "$ended"
  done
done

if [[ " $servers " == *" spindle "* && " $servers " == *" redis "* ]]; then
  for proto in $protocols; do
    echo
    echo "RESP$proto: fail on spindle, pass on redis-server:"
    LC_ALL=C join -1 2 -2 2 -o 0,1.1,2.1 "$logs/spindle.resp$proto.outcomes" "$logs/redis.resp$proto.outcomes" |
      awk '$2 != "passed" && $2 != "skipped" && $3 == "passed" { print "  " $1 " (" $2 ")"; n++ }
           END { if (!n) print "  (none)" }'
  done
fi
echo "logs: $logs" >&2
