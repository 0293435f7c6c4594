#!/usr/bin/env bash
# The deep tail of the HTTP hello servers: spindle-rt against tokio under
# http_load (bench/src/bin/http_load.rs), a closed-loop keep-alive client
# that reports p99.9 and the maximum as well as p50 and p99.
#
#   bench/http_tail.sh                                  # 1000 connections, 5 rounds, both flavors
#   bench/http_tail.sh --connections 100 --rounds 3
#   bench/http_tail.sh --servers spindle-multi,tokio-multi --duration 8s
#
# Each round runs every server once, in an order that rotates every round,
# so slow drift in the machine hits all of them alike. A run: start
# http_hello on 127.0.0.1:0, run http_load (warm-up, then the measured
# window), read the server's CPU time (user + system, all threads, from
# /proc/PID/stat) when the client says the measured window starts and again
# when it ends, stop the server. Pinning as bench/http_hello.sh: the client
# on CPU 1, a current-thread server on CPU 0, a multi-thread server
# unpinned. Prints every run, then per server the medians, then
# spindle/tokio ratios per flavor (below 1 means spindle is better, except
# for req/s). Every run is bounded: the client stops by itself, and is
# killed 30 s after it should have.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/lib.sh
source bench/lib.sh

rounds=5
connections=1000
duration=4s
warmup=1s
workers=2
servers="spindle-current,tokio-current,spindle-multi,tokio-multi"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "http_tail.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
limit=$(( $(duration_secs "$duration") + $(duration_secs "$warmup") + 30 ))

cargo build --release -q -p spindle-bench --bin http_hello --bin http_load
hello="$(release_dir)/http_hello"
load="$(release_dir)/http_load"
# A thousand connections need a descriptor each on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# Pinning prefixes (arrays, not a function: a backgrounded function would
# run in a subshell, and $! would be that subshell, not the server).
if command -v taskset >/dev/null 2>&1; then on0=(taskset -c 0); on1=(taskset -c 1); else on0=(); on1=(); fi
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

IFS=, read -r -a kinds <<<"$servers"
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
echo "http_tail: $(date -u +%FT%TZ) $(nproc) CPUs, $(uname -r); rounds=$rounds connections=$connections duration=$duration warmup=$warmup workers=$workers"
for round in $(seq 1 "$rounds"); do
  n=${#kinds[@]}
  for i in $(seq 0 $((n - 1))); do
    kind=${kinds[$(( (i + round - 1) % n ))]}
    runtime=${kind%-*}; flavor=${kind#*-}
    out=$(mktemp)
    if [ "$flavor" = current ]; then
      "${on0[@]}" "$hello" --runtime "$runtime" --flavor current --listen 127.0.0.1:0 >"$out" 2>&1 &
    else
      "$hello" --runtime "$runtime" --flavor multi --workers "$workers" --listen 127.0.0.1:0 >"$out" 2>&1 &
    fi
    pid=$!
    for _ in $(seq 1 200); do grep -q '^listening on' "$out" && break; sleep 0.05; done
    addr=$(sed -n 's/^listening on //p' "$out")
    if [ -z "$addr" ]; then
      echo "http_tail: $kind did not start:" >&2; cat "$out" >&2; kill "$pid" 2>/dev/null; exit 1
    fi
    t0=""; report=""
    while IFS= read -r line; do
      case "$line" in
        phase=measure) t0=$(ticks "$pid") ;;
        messages=*) report=$line ;;
      esac
    done < <("${on1[@]}" timeout "$limit" "$load" --addr "$addr" --connections "$connections" \
      --duration "$duration" --warmup "$warmup")
    t1=$(ticks "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -f "$out"
    if [ -z "$report" ] || [ -z "$t0" ]; then
      echo "http_tail: round $round $kind: http_load gave no report" >&2; exit 1
    fi
    line="round=$round server=$kind $report cpu_us_per_req=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v r="$report" \
      'BEGIN { split(r, f, /[ =]/); for (i = 1; i in f; i += 2) v[f[i]] = f[i+1]; printf "%.3f", t * 1e6 / hz / v["messages"] }')"
    echo "$line"
    echo "$line" >>"$raw"
  done
done

# Medians per server, then ratios.
awk '
  function med(list,    a, i, j, t, n) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    s = v["server"]; seen[s] = 1; errs[s] += v["errors"]
    rps[s] = rps[s] " " v["msgs_per_sec"]; p50[s] = p50[s] " " v["p50_us"]; p99[s] = p99[s] " " v["p99_us"]
    p999[s] = p999[s] " " v["p999_us"]; mx[s] = mx[s] " " v["max_us"]; cpu[s] = cpu[s] " " v["cpu_us_per_req"]
  }
  END {
    printf "\nmedians (latency in ms):\n| server | req/s | p50 | p99 | p99.9 | max | CPU µs/req | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
    for (s in seen) {
      m[s, "rps"] = med(rps[s]); m[s, "p99"] = med(p99[s]); m[s, "p999"] = med(p999[s]); m[s, "max"] = med(mx[s]); m[s, "cpu"] = med(cpu[s])
      printf "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.3f | %d |\n", s, m[s, "rps"], med(p50[s]) / 1000, m[s, "p99"] / 1000, m[s, "p999"] / 1000, m[s, "max"] / 1000, m[s, "cpu"], errs[s]
    }
    printf "\nratios spindle/tokio:\n| flavor | req/s | p99 | p99.9 | max | CPU/req |\n|---|---:|---:|---:|---:|---:|\n"
    split("current multi", fl, " ")
    for (k = 1; k <= 2; k++) {
      a = "spindle-" fl[k]; b = "tokio-" fl[k]
      if ((a in seen) && (b in seen))
        printf "| %s | %.2fx | %.2fx | %.2fx | %.2fx | %.2fx |\n", fl[k], m[a, "rps"] / m[b, "rps"], m[a, "p99"] / m[b, "p99"], m[a, "p999"] / m[b, "p999"], m[a, "max"] / m[b, "max"], m[a, "cpu"] / m[b, "cpu"]
    }
  }' "$raw"
