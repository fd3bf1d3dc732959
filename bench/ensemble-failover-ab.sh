#!/usr/bin/env bash
# Ensemble failover only (no load phases), builds side by side in one run: EnsembleBench --load no against each build
# (and Apache ZooKeeper 3.9.5 when "apache" is one of the builds), once per build per round, builds in rotating order
# (round r starts with build r). A build is a directory holding a `tandem` launcher and its server/target
# (tandem-server.jar and lib/), e.g. a copy taken before a change:
#   mkdir -p /some/dir/server/target && cp tandem /some/dir && cp -r server/target/{tandem-server.jar,lib} /some/dir/server/target
# Usage: bench/ensemble-failover-ab.sh ROUNDS DIR_A DIR_B ... [apache] [-- EnsembleBench options, e.g. --failovers 3]
# Prints, per build over every kill of every round: the new leader (srvr), the official client's kill to next committed
# write (its reconnect back-off included), and the prompt probe's (no back-off: the servers' part), as medians with
# ranges. Run bench/run-zk.sh (or run-ensemble.sh) once first: it fetches Apache and writes the bench class path.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/bench/target/zk-bench"
rounds=$1; shift
builds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  if [ "$1" = apache ]; then builds+=(apache); else builds+=("$(cd "$1" && pwd)"); fi
  shift
done
[ "${1:-}" = "--" ] && shift
cp="$root/bench/target/test-classes:$root/bench/target/classes:$(cat "$work/classpath.txt")"
out=$(mktemp -d)
n=${#builds[@]}
for r in $(seq 1 "$rounds"); do
  for k in $(seq 0 $((n - 1))); do
    b=$(( (k + r - 1) % n ))
    echo "round $r build $b (${builds[$b]}) load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
    if [ "${builds[$b]}" = apache ]; then target=apache; broot=$root; else target=tandem; broot=${builds[$b]}; fi
    java -Xmx1g -cp "$cp" io.tandem.bench.ensemble.EnsembleBench --root "$broot" --work "$work" \
      --apache-lib "$work/apache-zk" --targets "$target" --load no "$@" > "$out/$b.$r.log" 2>&1
    grep -E "^failover|^ +(writer|prompt)|\*\*\*" "$out/$b.$r.log" | sed 's/^/    /'
  done
done
echo "end load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
/usr/bin/python3 - "$out" "$n" "$rounds" "${builds[@]}" <<'PY'
import re, statistics, sys
out, n, rounds, builds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
figures = [("new leader (srvr)", r"new leader reported by srvr after (\S+) ms"),
           ("official client: kill to committed write", r"first write issued after the kill committed after (\S+) ms"),
           ("official client: requests failed", r"its client failed its requests after (\S+) ms"),
           ("official client: session back", r"had its session back on \S+ after (\S+) ms"),
           ("prompt probe: session back", r"prompt probe \(no back-off\): session back on \S+ after (\S+) ms"),
           ("prompt probe: kill to committed write", r"its write committed after (\S+) ms")]
print("\n(every kill of %d rounds: median [min - max], n kills)" % rounds)
print("| build | figure | median ms | range ms | kills |\n|---|---|---:|---|---:|")
for b in range(n):
    text = "".join(open("%s/%d.%d.log" % (out, b, r)).read() for r in range(1, rounds + 1))
    for name, pattern in figures:
        values = [float(v) for v in re.findall(pattern, text) if v != "NaN"]
        if values:
            print("| %s | %s | %.0f | %.0f - %.0f | %d |" % (builds[b], name, statistics.median(values), min(values),
                                                           max(values), len(values)))
print("\nlogs: %s" % out)
PY
