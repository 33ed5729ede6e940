#!/usr/bin/env bash
# bench/echo-harness.sh -- the shared echo harness's scenarios A, B, C and F in one command: the C epoll echo beside
# AsyncNet's echoes (protocol, stream, zero-copy stream, framed), interleaved, server on CPU 0 and load on CPU 1.
#
#   bench/echo-harness.sh [--rounds N] [--seconds S] [--scenarios "A B C F"] [--no-build] [--out DIR]
#
# The harness (a verifying C load generator and a C epoll echo) is not part of this repository: it is copied from
# $ECHO_HARNESS (default: ../shared/echo-harness beside the repository) into a temporary directory and built there
# with make; nothing of it is kept. Each round runs every server of every scenario once, one after the other, so the
# machine's drift hits them alike; the table gives the median over the rounds of each figure. Server CPU per message
# (the harness's server_cpu over msgs/s) is the figure to compare: the load generator is often the bottleneck, so
# msgs/s differences under ~25 % are noise. A run with other_cpu well above 0 % shared the machine: repeat it.
#
# Output: every harness line in DIR/runs.txt (default: a new temporary directory, printed), then a markdown table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
rounds=3 seconds=5 scenarios="A B C F" build=1 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "echo-harness.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

source_dir="${ECHO_HARNESS:-$repo/../shared/echo-harness}"
[ -f "$source_dir/run.sh" ] || { echo "echo-harness.sh: no harness at $source_dir (set ECHO_HARNESS)" >&2; exit 2; }
harness=$(mktemp -d /tmp/echo-harness.XXXXXX)
trap 'rm -rf "$harness"' EXIT
cp -r "$source_dir"/. "$harness"/
make -s -C "$harness" >&2

if [ "$build" = 1 ]; then
  dotnet build "$repo/bench/AsyncNet.EchoBench" -c Release -v quiet -nologo >&2
fi
bench="$repo/bench/AsyncNet.EchoBench/bin/Release/net10.0/AsyncNet.EchoBench"
[ -x "$bench" ] || { echo "echo-harness.sh: $bench is not built" >&2; exit 2; }

[ -n "$out" ] || out=$(mktemp -d /tmp/echo-harness-results.XXXXXX)
mkdir -p "$out"
runs="$out/runs.txt"
: > "$runs"

# The servers of a scenario: the yardstick first, then AsyncNet's echoes that speak its format.
servers_of() {
  case "$1" in
    F) echo "epoll framed" ;;
    *) echo "epoll protocol stream zerocopy" ;;
  esac
}

command_of() {
  case "$1" in
    epoll) echo "$harness/epoll-echo {PORT}" ;;
    *) echo "$bench server --kind $1 --port {PORT}" ;;
  esac
}

echo "# $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of $seconds s; results in $out" >&2
for round in $(seq 1 "$rounds"); do
  for scenario in $scenarios; do
    for server in $(servers_of "$scenario"); do
      # shellcheck disable=SC2046 # the command is split into words on purpose
      line=$("$harness/run.sh" -S "$scenario" -t "$seconds" -l "$out/server-$scenario-$server-$round.log" -- $(command_of "$server")) || {
        echo "echo-harness.sh: round $round, $scenario, $server failed: $line" >&2
        exit 1
      }
      echo "round=$round scenario=$scenario server=$server $line" | tee -a "$runs" >&2
    done
  done
done

# The table: per scenario and server, the median over the rounds of each figure; CPU per message and p99 also as a
# ratio to the C epoll echo's medians.
awk '
  function field(name,   i, kv) {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) { gsub(/%/, "", kv[2]); return kv[2] + 0 } }
    return 0
  }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    split($2, s, "="); split($3, v, "="); key = s[2] SUBSEP v[2]
    if (!(key in seen)) { seen[key] = 1; order[++count] = key }
    msgs = field("msgs/s"); cpu = field("server_cpu")
    rate[key] = rate[key] " " msgs
    cpumsg[key] = cpumsg[key] " " (msgs > 0 ? cpu * 10000 / msgs : 0)
    p50[key] = p50[key] " " field("p50_us"); p99[key] = p99[key] " " field("p99_us")
    other[key] = other[key] " " field("other_cpu"); errors[key] += field("errors")
  }
  END {
    print "| scenario | server | msgs/s | server CPU µs/msg | vs C epoll | p50 µs | p99 µs | p99 vs C epoll | other CPU % | errors |"
    print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= count; i++) {
      key = order[i]; split(key, k, SUBSEP); base = k[1] SUBSEP "epoll"
      c = median(cpumsg[key]); cb = median(cpumsg[base]); q = median(p99[key]); qb = median(p99[base])
      cr = (cb > 0) ? c / cb : 0; qr = (qb > 0) ? q / qb : 0
      printf "| %s | %s | %.0f | %.2f | %.2f× | %.0f | %.0f | %.2f× | %.0f | %d |\n", k[1], k[2], median(rate[key]), c, cr, median(p50[key]), q, qr, median(other[key]), errors[key]
    }
  }' "$runs"
