#!/usr/bin/env bash
# Compaction throughput of the Kafka log engine (bench/storage/CleanerBench.java): one forced cleaning pass over a
# freshly written compacted log, then a second over the cleaned one (where small segments merge).
# Usage: bench/run-cleaner.sh [--dir bench/target/cleaner] [--records 1000000] [--keys 20000] [--value-bytes 100]
#        [--batch 50] [--segment-bytes 8388608] [--rounds 3]
# Keep --dir on the disk a data dir would use (not a tmpfs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mvn -q -B -o -pl storage -am compile
cp=$(mvn -q -B -o -pl storage dependency:build-classpath -Dmdep.includeScope=compile -Dmdep.outputFile=/dev/stdout)
exec java -Xmx512m -cp "$root/storage/target/classes:$root/kafka-wire/target/classes:$cp" \
    "$root/bench/storage/CleanerBench.java" "$@"
