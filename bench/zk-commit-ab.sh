#!/usr/bin/env bash
# The in-memory write path of two (or more) builds side by side: CommitPathBench (prepare, txn serialization, apply,
# reply encoding; no sockets, threads or disk) in one JVM per build per round, builds in rotating order, with the
# launcher's JVM flags for a ZooKeeper-only node. Prints each run's CPU ns/op per phase and the load average.
# A build is a directory holding server/target/tandem-server.jar and server/target/lib/ (see zk-build-ab.sh).
# Usage: bench/zk-commit-ab.sh ROUNDS DIR_A DIR_B ... [-- CommitPathBench options: --parents 8 --children 20000
# --repeat 5 --inflight 256 --data-bytes 100]. Needs bench's test classes compiled (bench/run-zk.sh does it).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=ab-rounds.sh
source "$root/bench/ab-rounds.sh"
ab_parse build "$@"
flags=${JAVA_FLAGS:--Xms16m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
run_build() {
  # shellcheck disable=SC2086
  java $flags -cp "$root/bench/target/test-classes:$1/server/target/tandem-server.jar:$1/server/target/lib/*" \
    io.tandem.server.zookeeper.CommitPathBench "${bench_args[@]}"
}
ab_rounds run_build "/op"
rm -rf "$out"
