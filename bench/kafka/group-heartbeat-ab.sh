#!/usr/bin/env bash
# The group coordinator's Heartbeat CPU in two (or more) builds side by side: HeartbeatCostBench (1 to 10,000 members,
# the group timer's listener connected; no sockets, threads or disk) in one JVM per build per round, builds in rotating
# order. Prints each run's CPU ns per heartbeat per member count and the load average.
# A build is a directory holding server/target/tandem-server.jar and server/target/lib/ (see bench/zk-build-ab.sh).
# Usage: bench/kafka/group-heartbeat-ab.sh ROUNDS DIR_A DIR_B ... [-- HeartbeatCostBench options: --members
# 1,100,1000,10000 --group-size 1000 --repeat 5]. Needs bench's test classes compiled
# (mvn -B -q -o -pl bench -am test-compile).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../ab-rounds.sh
source "$root/bench/ab-rounds.sh"
ab_parse build "$@"
flags=${JAVA_FLAGS:--Xms64m -Xmx512m -XX:+UseSerialGC}
run_build() {
  # shellcheck disable=SC2086
  java $flags -cp "$1/server/target/tandem-server.jar:$1/server/target/lib/*:$root/bench/target/test-classes" \
    io.tandem.server.kafka.group.HeartbeatCostBench "${bench_args[@]}"
}
ab_rounds run_build "^heartbeat"
/usr/bin/python3 - "$out" "$n" "$rounds" "${entries[@]}" <<'PY'
import re, statistics, sys
out, n, rounds, builds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
print("\n(medians over %d rounds [min - max])" % rounds)
print("| build | members | CPU ns/heartbeat |\n|---|---:|---:|")
for b in range(n):
    rows = {}
    for r in range(1, rounds + 1):
        for line in open("%s/%d.%d.log" % (out, b, r)):
            m = re.match(r"^heartbeat members (\d+) groups \d+: (\d+) ns", line)
            if m: rows.setdefault(int(m.group(1)), []).append(float(m.group(2)))
    for members, v in sorted(rows.items()):
        print("| %s | %d | %.0f [%.0f - %.0f] |" % (builds[b], members, statistics.median(v), min(v), max(v)))
PY
rm -rf "$out"
