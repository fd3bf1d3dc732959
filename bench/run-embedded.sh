#!/usr/bin/env bash
# In-process costs a test suite pays for Tandem (io.tandem.bench.embedded.EmbeddedBench): node start (both roles,
# ZooKeeper only), a three-broker TandemCluster's start, and Tandem.reset() between tests. Prints median, p90, max.
# Usage: bench/run-embedded.sh [ROUNDS=20]. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/bench/target/embedded-bench"
mkdir -p "$work"
(cd "$root" && mvn -q -B -pl bench -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath.txt")
# The JVM flags of a typical surefire fork (the default heap; no class-data archive).
exec java -cp "$root/bench/target/test-classes:$root/bench/target/classes:$(cat "$work/classpath.txt")" \
  io.tandem.bench.embedded.EmbeddedBench "$@"
