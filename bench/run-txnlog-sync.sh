#!/usr/bin/env bash
# The ZooKeeper transaction log's append + fsync latency with and without preallocation (zookeeper.preAllocSize).
# Usage: bench/run-txnlog-sync.sh [--dir bench/target/txnlog-sync] [--ops 2000] [--rounds 3] [--record-bytes 100]
#        [--modes 0,1024,65536]   (preallocation blocks in KiB; 0 = none, 65536 = Apache's default)
# The log is written where --dir points: keep it on the disk a server's data dir would use (not a tmpfs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
(cd "$root" && mvn -q -B -pl storage -am compile)
cd "$root"
exec java -Xmx256m -cp "$root/storage/target/classes" "$root/bench/storage/TxnLogSyncBench.java" "$@"
