#!/usr/bin/env bash
# The group coordinator's Heartbeat CPU in two (or more) builds side by side: HeartbeatCostBench (1 to 10,000 members,
# the group timer's listener connected; no sockets, threads or disk) in one JVM per build per round, builds in rotating
# order. Prints each run's CPU ns per heartbeat per member count and the load average.
# A build is a directory holding server/target/tandem-server.jar and server/target/lib/ (see bench/zk-build-ab.sh).
# Usage: bench/kafka/group-heartbeat-ab.sh ROUNDS DIR_A DIR_B ... [-- HeartbeatCostBench options: --members
# 1,100,1000,10000 --group-size 1000 --repeat 5]. Needs bench's test classes compiled
# (mvn -B -q -o -pl bench -am test-compile).
# With HEARTBEAT_BENCH=consumer it runs ConsumerHeartbeatCostBench instead (KIP-848 ConsumerGroupHeartbeat: one
# group of --members 1000,10000 members, --repeat 5): CPU per steady heartbeat, per join into the Stable group, per
# other member's reconciling heartbeat after it, and per leave.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../ab-rounds.sh
source "$root/bench/ab-rounds.sh"
ab_parse build "$@"
flags=${JAVA_FLAGS:--Xms64m -Xmx512m -XX:+UseSerialGC}
kind=${HEARTBEAT_BENCH:-classic}
if [ "$kind" = consumer ]; then
  bench_class=io.tandem.server.kafka.group.consumer.ConsumerHeartbeatCostBench filter="^consumer"
else
  bench_class=io.tandem.server.kafka.group.HeartbeatCostBench filter="^heartbeat"
fi
run_build() {
  # shellcheck disable=SC2086
  java $flags -cp "$1/server/target/tandem-server.jar:$1/server/target/lib/*:$root/bench/target/test-classes" \
    "$bench_class" "${bench_args[@]}"
}
ab_rounds run_build "$filter"
/usr/bin/python3 - "$out" "$n" "$rounds" "$kind" "${entries[@]}" <<'PY'
import re, statistics, sys
out, n, rounds, kind, builds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
print("\n(medians over %d rounds [min - max])" % rounds)
if kind == "consumer":
    print("| build | members | measure | CPU ns |\n|---|---:|---|---:|")
    pattern = r"^consumer members (\d+) (steady|join|reconcile|leave): (\d+) ns"
else:
    print("| build | members | CPU ns/heartbeat |\n|---|---:|---:|")
    pattern = r"^heartbeat members (\d+)() groups \d+: (\d+) ns"
for b in range(n):
    rows = {}
    for r in range(1, rounds + 1):
        for line in open("%s/%d.%d.log" % (out, b, r)):
            m = re.match(pattern, line)
            if m: rows.setdefault((int(m.group(1)), m.group(2)), []).append(float(m.group(3)))
    for (members, what), v in sorted(rows.items()):
        cells = [builds[b], str(members)] + ([what] if kind == "consumer" else [])
        print("| %s | %.0f [%.0f - %.0f] |" % (" | ".join(cells), statistics.median(v), min(v), max(v)))
PY
rm -rf "$out"
