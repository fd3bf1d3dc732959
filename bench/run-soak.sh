#!/usr/bin/env bash
# Soak: one Tandem node (./tandem start, default settings) under mixed ZooKeeper and Kafka load for MINUTES (30 by
# default), clients connecting and disconnecting, malformed frames on both ports. Prints RSS and heap every
# SAMPLE_SECONDS and a summary: they should stay flat and well-behaved clients should see zero errors.
# Usage: bench/run-soak.sh   (env: MINUTES=30 SAMPLE_SECONDS=30). Not run by CI; nothing is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/bench/target/soak"
mkdir -p "$work"
(cd "$root" && mvn -q -B -DskipTests package)
(cd "$root" && mvn -q -B -pl bench -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath.txt")
exec java -Xmx512m -cp "$root/bench/target/test-classes:$root/bench/target/classes:$(cat "$work/classpath.txt")" \
  io.tandem.bench.soak.SoakBench --root "$root" --work "$work" --minutes "${MINUTES:-30}" \
  --sample-seconds "${SAMPLE_SECONDS:-30}"
