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
# shellcheck source=ab-rounds.sh
source "$root/bench/ab-rounds.sh"
ab_parse build "$@"
cp="$root/bench/target/test-classes:$root/bench/target/classes:$(cat "$work/classpath.txt")"
run_build() {
  local target=tandem broot=$1
  if [ "$1" = apache ]; then target=apache; broot=$root; fi
  java -Xmx1g -cp "$cp" io.tandem.bench.ensemble.EnsembleBench --root "$broot" --work "$work" \
    --apache-lib "$work/apache-zk" --targets "$target" --load no "${bench_args[@]}"
}
ab_rounds run_build "^failover|^ +(writer|prompt)|\*\*\*"
/usr/bin/python3 - "$out" "$n" "$rounds" "${entries[@]}" <<'PY'
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
