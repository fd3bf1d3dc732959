# Shared by the A/B scripts that run one bench per build (or JVM-flag variant) per round: zk-build-ab.sh,
# zk-commit-ab.sh, zk-flags-ab.sh, ensemble-failover-ab.sh, kafka/produce-flags-ab.sh. Sourced, not run.
#   ab_parse KIND ROUNDS ENTRY... [-- BENCH OPTIONS]: sets rounds, entries, n and bench_args. KIND "build" turns
#     each entry into an absolute directory (except "apache", kept as a name); "variant" keeps entries as given.
#   ab_rounds RUN FILTER: per round r, per entry in rotating order (round r starts with entry r, so no entry always
#     runs first on a machine warming up or cooling down), prints the load average, runs `RUN ENTRY` with its output
#     in $out/<entry index>.<round>.log and prints that log's lines matching the extended regex FILTER, indented.
#     Sets out (a new temporary directory), which the caller's summary reads.

ab_parse() {
  ab_kind=$1; rounds=$2; shift 2
  entries=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    if [ "$ab_kind" = variant ] || [ "$1" = apache ]; then entries+=("$1"); else entries+=("$(cd "$1" && pwd)"); fi
    shift
  done
  [ "${1:-}" = "--" ] && shift
  bench_args=("$@")
  n=${#entries[@]}
}

ab_rounds() {
  local run=$1 filter=$2 r k e
  out=$(mktemp -d)
  for r in $(seq 1 "$rounds"); do
    for k in $(seq 0 $((n - 1))); do
      e=$(( (k + r - 1) % n ))
      echo "round $r $ab_kind $e (${entries[$e]}) load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
      "$run" "${entries[$e]}" > "$out/$e.$r.log" 2>&1
      grep -E "$filter" "$out/$e.$r.log" | sed 's/^/    /'
    done
  done
  echo "end load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
}
