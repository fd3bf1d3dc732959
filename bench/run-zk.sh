#!/usr/bin/env bash
# Side-by-side ZooKeeper benchmark: Tandem against Apache ZooKeeper 3.9.5 (fetched from Maven Central now), each as
# its own process on this machine, driven by the official ZooKeeper Java client (bench/src/test/java, test class path).
# Usage: bench/run-zk.sh [--targets tandem,apache] [--rounds 1] [--clients 8] [--inflight 32] [--ops 20000] [--data-bytes 100] [--warmup 4000]
# Prints ops/s, p50, p99 per phase, start-up time, idle RSS and the Tandem/Apache ratios. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/bench/target/zk-bench"
mkdir -p "$work"

if [ ! -d "$work/apache-zk" ]; then
  echo "fetching Apache ZooKeeper 3.9.5 from Maven Central..."
  mvn -q -B -f "$root/bench/zookeeper/apache-zookeeper.pom.xml" dependency:copy-dependencies -DoutputDirectory="$work/apache-zk"
fi
case " $* " in
  *" --targets "*) targets_given=1 ;;
  *) targets_given=0 ;;
esac
if [ "$targets_given" = 0 ] || [[ " $* " == *tandem* ]]; then
  # The launcher runs the packaged server; build it now so its build time is not counted as start-up.
  (cd "$root" && mvn -q -B -DskipTests package)
fi
# Each module of the reactor writes its own class path (a relative outputFile is per module); bench's is the one used.
# One shared absolute file was overwritten by whichever module wrote last.
(cd "$root" && mvn -q -B -pl bench -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt)
cp "$root/bench/target/bench-classpath.txt" "$work/classpath.txt"
# run-ensemble.sh reuses all of the above and names its own driver here.
main=${ZK_BENCH_MAIN:-io.tandem.bench.zookeeper.ZkBench}
exec java -Xmx1g -cp "$root/bench/target/test-classes:$root/bench/target/classes:$(cat "$work/classpath.txt")" \
  "$main" --root "$root" --work "$work" --apache-lib "$work/apache-zk" "$@"
