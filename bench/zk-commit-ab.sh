#!/usr/bin/env bash
# The in-memory write path of two (or more) builds side by side: CommitPathBench (prepare, txn serialization, apply,
# reply encoding; no sockets, threads or disk) in one JVM per build per round, builds in rotating order, with the
# launcher's JVM flags for a ZooKeeper-only node. Prints each run's CPU ns/op per phase and the load average.
# A build is a directory holding server/target/tandem-server.jar and server/target/lib/ (see zk-build-ab.sh).
# Usage: bench/zk-commit-ab.sh ROUNDS DIR_A DIR_B ... [-- CommitPathBench options: --parents 8 --children 20000
# --repeat 5 --inflight 256 --data-bytes 100]. Needs bench's test classes compiled (bench/run-zk.sh does it).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=$1; shift
builds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do builds+=("$(cd "$1" && pwd)"); shift; done
[ "${1:-}" = "--" ] && shift
flags=${JAVA_FLAGS:--Xms16m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
n=${#builds[@]}
for r in $(seq 1 "$rounds"); do
  for k in $(seq 0 $((n - 1))); do
    b=$(( (k + r - 1) % n ))
    echo "round $r build $b (${builds[$b]}) load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
    # shellcheck disable=SC2086
    java $flags -cp "$root/bench/target/test-classes:${builds[$b]}/server/target/tandem-server.jar:${builds[$b]}/server/target/lib/*" \
      io.tandem.server.zookeeper.CommitPathBench "$@" | grep "/op" | sed 's/^/    /'
  done
done
echo "end load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
