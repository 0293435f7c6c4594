#!/usr/bin/env bash
# User-space instructions per request of the HTTP hello servers, spindle-rt
# against tokio, counted by valgrind's callgrind: a figure that does not
# move with the machine's noise, for a change too small for the timed
# benchmarks to resolve (they move 10-30% from run to run on a 2-vCPU VM).
#
#   bench/hello_instr.sh                          # 100 connections, all four servers
#   bench/hello_instr.sh --connections 1000 --servers spindle-current,tokio-current
#   bench/hello_instr.sh --connections 1000 --cache   # also simulated L1 data misses per request
#
# A run: start bench/src/bin/http_hello under callgrind on 127.0.0.1:0,
# load it with http_load (closed loop, keep-alive); when the client says its
# measured window starts, zero the counters (callgrind_control -z); when it
# ends, dump them (-d). The dump holds every instruction the server's
# threads ran in user space in the window, and how many times `respond`
# was called (`#[inline(never)]` for this): once per read, and with one
# request in flight per connection, once per request.
# Instructions / calls is the figure. Kernel time (the system calls, which
# are most of a request's CPU) is not counted: this measures the runtime's
# own code, the part the two implementations differ in.
#
# Callgrind runs the server about 20-50x slower and one thread at a time, so
# this says nothing about throughput, latency or the schedulers' parallel
# behaviour, only about code-path length. With --cache, callgrind also
# simulates the caches (the host's L1 and last-level sizes) and the script
# prints the L1 data-cache misses per request, reads and writes: at many
# connections every entry an event touches is cold, so how many lines a
# request touches is its other user-space cost. valgrind (Debian package)
# is installed if missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/lib.sh
source bench/lib.sh

connections=100
duration=6s
warmup=2s
workers=2
servers="spindle-current,tokio-current,spindle-multi,tokio-multi"
cache=no
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --cache) cache=yes; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "hello_instr.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if ! command -v valgrind >/dev/null 2>&1 || ! command -v callgrind_control >/dev/null 2>&1; then
  echo "hello_instr.sh: valgrind missing; installing it" >&2
  install valgrind
fi

cargo build --release -q -p spindle-bench --bin http_hello --bin http_load
hello="$(release_dir)/http_hello"
load="$(release_dir)/http_load"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
limit=$(( $(duration_secs "$duration") + $(duration_secs "$warmup") + 60 ))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Total instructions, L1 data read and write misses (0 without --cache),
# and calls of `respond`, in a callgrind dump. Names are
# compressed ("fn=(12) name" the first time, "fn=(12)" after), and a
# "calls=N ..." line counts calls of the function named by the "cfn=" line
# before it.
count() {
  awk '
    /^events:/ { for (i = 2; i <= NF; i++) col[$i] = i }
    /^summary:/ { total = $2; if ("D1mr" in col) { d1r = $col["D1mr"]; d1w = $col["D1mw"] } }
    /^cfn=/ {
      id = $0; sub(/^cfn=/, "", id); name = id
      if (match(id, /^\([0-9]+\) /)) { key = substr(id, 1, RLENGTH - 1); name = substr(id, RLENGTH + 1); names[key] = name }
      else if (id in names) name = names[id]
      callee = name
    }
    /^fn=/ {
      id = $0; sub(/^fn=/, "", id)
      if (match(id, /^\([0-9]+\) /)) { key = substr(id, 1, RLENGTH - 1); names[key] = substr(id, RLENGTH + 1) }
    }
    /^calls=/ { if (callee == "http_hello::respond") { split($0, c, /[= ]/); calls += c[2] } }
    END { printf "%d %d %d %d\n", total, d1r, d1w, calls }
  ' "$1"
}

IFS=, read -r -a kinds <<<"$servers"
echo "hello_instr: $(date -u +%FT%TZ) $(uname -r); connections=$connections duration=$duration warmup=$warmup workers=$workers"
declare -A per_req misses
for kind in "${kinds[@]}"; do
  runtime=${kind%-*}; flavor=${kind#*-}
  out="$work/$kind.out"; dump="$work/$kind.cg"
  valgrind --tool=callgrind --callgrind-out-file="$dump" --dump-instr=no --collect-jumps=no --cache-sim="$cache" \
    "$hello" --runtime "$runtime" --flavor "$flavor" --workers "$workers" --listen 127.0.0.1:0 >"$out" 2>"$work/$kind.err" &
  pid=$!
  for _ in $(seq 1 600); do grep -q '^listening on' "$out" && break; sleep 0.05; done
  addr=$(sed -n 's/^listening on //p' "$out")
  if [ -z "$addr" ]; then
    echo "hello_instr: $kind did not start:" >&2; cat "$out" "$work/$kind.err" >&2; kill "$pid" 2>/dev/null; exit 1
  fi
  report=""
  while IFS= read -r line; do
    case "$line" in
      phase=measure) callgrind_control -z "$pid" >/dev/null 2>&1 ;;
      messages=*) report=$line; callgrind_control -d "$pid" >/dev/null 2>&1 ;;
    esac
  done < <(timeout "$limit" "$load" --addr "$addr" --connections "$connections" --duration "$duration" --warmup "$warmup")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  if [ -z "$report" ] || [ ! -s "$dump.1" ]; then
    echo "hello_instr: $kind: no report or no dump" >&2; exit 1
  fi
  read -r total d1r d1w calls < <(count "$dump.1")
  if [ "$calls" -eq 0 ]; then
    echo "hello_instr: $kind: no call of respond in the dump" >&2; exit 1
  fi
  per_req[$kind]=$(awk -v t="$total" -v c="$calls" 'BEGIN { printf "%.0f", t / c }')
  misses[$kind]=$(awk -v r="$d1r" -v w="$d1w" -v c="$calls" 'BEGIN { printf "%.2f %.2f", r / c, w / c }')
  echo "server=$kind instructions=$total requests=$calls instructions_per_req=${per_req[$kind]} d1_read_write_misses_per_req=${misses[$kind]// /,} ($report)"
done

echo
if [ "$cache" = yes ]; then
  echo "| flavor | spindle-rt instr/req | tokio instr/req | ratio | spindle-rt L1d misses/req (read, write) | tokio | ratio (read) |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
else
  echo "| flavor | spindle-rt instr/req | tokio instr/req | ratio |"
  echo "|---|---:|---:|---:|"
fi
for flavor in current multi; do
  a=${per_req[spindle-$flavor]:-}; b=${per_req[tokio-$flavor]:-}
  if [ -n "$a" ] && [ -n "$b" ]; then
    row="| $flavor | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }') |"
    if [ "$cache" = yes ]; then
      read -r ar aw <<<"${misses[spindle-$flavor]}"; read -r br bw <<<"${misses[tokio-$flavor]}"
      row="$row $ar, $aw | $br, $bw | $(awk -v a="$ar" -v b="$br" 'BEGIN { printf "%.2fx", a / b }') |"
    fi
    echo "$row"
  fi
done
