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
# The storage module's only runtime dependencies besides kafka-wire: Netty's buffer and common jars, at the
# version the build uses, from the local Maven repository.
netty=$(sed -n 's:.*<netty.version>\(.*\)</netty.version>.*:\1:p' pom.xml)
repo=${MAVEN_REPOSITORY:-$HOME/.m2/repository}
cp="$root/storage/target/classes:$root/kafka-wire/target/classes"
for artifact in netty-buffer netty-common; do
    cp="$cp:$repo/io/netty/$artifact/$netty/$artifact-$netty.jar"
done
exec java -Xmx512m -cp "$cp" "$root/bench/storage/CleanerBench.java" "$@"
