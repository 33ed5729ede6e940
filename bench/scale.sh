#!/usr/bin/env bash
# scale.sh -- how the echo scales with the loops of an event loop group (issue 12).
#
# For N = 1, 2, 4, 8 ... up to --max-loops (and --max-loops itself), starts `asyncnet echo-server --loops N`, drives it
# with N load processes of --connections connections each (so every loop gets the same work), and prints msgs/s in all,
# msgs/s per loop, and the efficiency: msgs/s with N loops / (N x msgs/s with 1 loop); 1.00 is linear.
#
# usage: bench/scale.sh [options]
#   --max-loops N        the most loops to try [nproc / 2, at least 1: the load needs cores too]
#   --kind K             raw | stream | framed [raw]
#   --distribution D     auto | reuseport | round-robin | least-connections [auto]
#   --connections C      connections per load process, one process per loop [50]
#   --size B             message bytes [64]        --depth D   messages in flight per connection [16]
#   --seconds S          measured seconds [5]      --warmup S  seconds before measuring [1]
#   --load L             echo-load | bench | auto [auto]: the shared harness's C load generator if it is built, else
#                        `asyncnet bench`
#   --pin                pin the server to CPUs 0..N-1 and the load processes to the CPUs after them (taskset);
#                        needs 2 x --max-loops CPUs
#   -h, --help           this text
#
# env: ASYNCNET    the asyncnet command [dotnet tools/AsyncNet.Cli/bin/Release/net10.0/asyncnet.dll, built if missing]
#      ECHO_LOAD   the harness's echo-load binary [../shared/echo-harness/echo-load, then /tmp/echo-harness/echo-load]
#
# Every echoed byte is verified by either load generator; a run with errors stops the script (exit 1). The numbers
# mean something only on a machine with cores to spare: this is for measuring linearity on a larger machine.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"

MAX_LOOPS=$(( $(nproc) / 2 )); [ "$MAX_LOOPS" -ge 1 ] || MAX_LOOPS=1
KIND=raw DISTRIBUTION=auto CONNS=50 SIZE=64 DEPTH=16 SECONDS_=5 WARMUP=1 LOAD=auto PIN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --max-loops) MAX_LOOPS=$2; shift 2 ;;
    --kind) KIND=$2; shift 2 ;;
    --distribution) DISTRIBUTION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --depth) DEPTH=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --load) LOAD=$2; shift 2 ;;
    --pin) PIN=1; shift ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$KIND" in raw|stream|framed) ;; *) echo "scale.sh: --kind must be raw, stream or framed" >&2; exit 2 ;; esac
[[ "$MAX_LOOPS" =~ ^[1-9][0-9]*$ ]] || { echo "scale.sh: --max-loops must be a whole number from 1" >&2; exit 2; }
MODE=raw; [ "$KIND" = framed ] && MODE=framed
if [ "$PIN" = 1 ] && [ $((2 * MAX_LOOPS)) -gt "$(nproc)" ]; then
  echo "scale.sh: --pin gives the server and the load a CPU per loop each: $((2 * MAX_LOOPS)) CPUs for --max-loops $MAX_LOOPS, this machine has $(nproc)" >&2
  exit 2
fi

# ---- the tools -------------------------------------------------------------------------------------------------------
if [ -z "${ASYNCNET:-}" ]; then
  dll="$REPO/tools/AsyncNet.Cli/bin/Release/net10.0/asyncnet.dll"
  [ -f "$dll" ] || dotnet build "$REPO/tools/AsyncNet.Cli" -c Release -v quiet >&2
  ASYNCNET="dotnet $dll"
fi
if [ "$LOAD" != bench ]; then
  for candidate in "${ECHO_LOAD:-}" "$REPO/../shared/echo-harness/echo-load" /tmp/echo-harness/echo-load; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then ECHO_LOAD_BIN=$candidate; break; fi
  done
  if [ -z "${ECHO_LOAD_BIN:-}" ]; then
    [ "$LOAD" = echo-load ] && { echo "scale.sh: --load echo-load, but no built echo-load was found (set ECHO_LOAD)" >&2; exit 2; }
    LOAD=bench
  else
    LOAD=echo-load
  fi
fi

pin() { # pin FIRST COUNT cmd...: exec cmd, taskset to CPUs FIRST..FIRST+COUNT-1 with --pin; call it with '&', so
  # the background job's PID is the command's own and a SIGTERM reaches it
  local first=$1 count=$2; shift 2
  if [ "$PIN" = 1 ]; then exec taskset -c "$first-$((first + count - 1))" "$@"; else exec "$@"; fi
}

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- one measurement: N loops, N load processes ----------------------------------------------------------------------
measure() { # measure N: writes "msgs/s spread" to $WORK/result
  local n=$1 out="$WORK/server-$1.log" port="" i
  : >"$out" # exists before the server starts writing it, so polling it cannot race the background job
  # shellcheck disable=SC2086
  pin 0 "$n" $ASYNCNET echo-server --kind "$KIND" --loops "$n" --distribution "$DISTRIBUTION" --port 0 >"$out" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\),.*/\1/p' "$out")
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "scale.sh: echo-server exited:" >&2; cat "$out" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "scale.sh: echo-server did not listen within 60 s" >&2; exit 1; }

  local pids=()
  for i in $(seq 1 "$n"); do
    if [ "$LOAD" = echo-load ]; then
      WARMUP_S=$WARMUP pin "$n" "$n" "$ECHO_LOAD_BIN" 127.0.0.1 "$port" "$CONNS" "$SIZE" "$DEPTH" "$SECONDS_" "$MODE" >"$WORK/load-$n-$i" 2>&1 &
    else
      local framed=(); [ "$MODE" = framed ] && framed=(--framed)
      # shellcheck disable=SC2086
      pin "$n" "$n" $ASYNCNET bench --port "$port" --connections "$CONNS" --size "$SIZE" --depth "$DEPTH" \
        --seconds "$SECONDS_" --warmup "$WARMUP" "${framed[@]}" >"$WORK/load-$n-$i" 2>/dev/null &
    fi
    pids+=($!)
  done
  local failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done

  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""
  if [ "$failed" = 1 ]; then
    echo "scale.sh: a load process failed with $n loop(s) (an echoed byte differed, or a connection broke):" >&2
    cat "$WORK"/load-"$n"-* >&2; exit 1
  fi
  local total
  total=$(cat "$WORK"/load-"$n"-* | sed -n -e 's/^msgs\/s=\([0-9.]*\) .*/\1/p' -e 's/^messages\/s: \([0-9,]*\) .*/\1/p' | tr -d , |
    awk '{ s += $1 } END { printf "%.0f", s }')
  echo "$total $(sed -n 's/^echo-server: accepted per loop: \([0-9, ]*\) (.*/\1/p' "$out" | tail -1 | tr -d ' ')" >"$WORK/result"
}

# ---- the table -------------------------------------------------------------------------------------------------------
echo "# scale.sh: $KIND echo, $DISTRIBUTION distribution, $CONNS connections x $SIZE B x depth $DEPTH per loop, ${WARMUP} s warm-up + ${SECONDS_} s, load: $LOAD$([ "$PIN" = 1 ] && echo ', pinned'), $(nproc) CPUs"
printf '%6s %14s %14s %10s  %s\n' loops msgs/s msgs/s/loop efficiency "accepted per loop"
counts=(); n=1
while [ "$n" -lt "$MAX_LOOPS" ]; do counts+=("$n"); n=$((n * 2)); done
counts+=("$MAX_LOOPS")
base=""
for n in "${counts[@]}"; do
  measure "$n"
  read -r total spread <"$WORK/result"
  per_loop=$((total / n))
  [ -n "$base" ] || base=$total
  efficiency=$(awk -v t="$total" -v b="$base" -v n="$n" 'BEGIN { printf "%.2f", (b > 0 ? t / (n * b) : 0) }')
  printf '%6d %14d %14d %10s  %s\n' "$n" "$total" "$per_loop" "$efficiency" "$spread"
done
