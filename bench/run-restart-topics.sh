#!/usr/bin/env bash
# A single node's restart with topics on disk (io.tandem.bench.embedded.RestartWithTopicsBench): Tandem.start, then
# the first Metadata answer and how many topics it lists led. The first run makes the data directory.
# Usage: bench/run-restart-topics.sh [TOPICS=200] [ROUNDS=2]. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/bench/target/restart-topics-bench"
mkdir -p "$work"
(cd "$root" && mvn -q -B -pl bench -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath.txt")
exec java -cp "$root/bench/target/test-classes:$root/bench/target/classes:$(cat "$work/classpath.txt")" \
  io.tandem.bench.embedded.RestartWithTopicsBench "$work/data-${1:-200}" "${1:-200}" "${2:-2}"
