#!/usr/bin/env bash
# ZooKeeper memory at scale: the same large tree on Tandem (./tandem start, its default JVM settings unless
# TANDEM_JAVA_OPTS is set) and on Apache ZooKeeper 3.9.5 (zkServer.sh's -Xmx1000m), one after the other.
# Usage: bench/run-zk-memory.sh [--targets tandem,apache] [--rounds 1] [--nodes 1000000] [--clients 4] [--inflight 200]
#        [--data-bytes 100] [--layout flat|deep] [--watches 100000] [--histogram PREFIX]
# Prints heap after a full GC, RSS, both again with K data watches, restart time with the tree, and the ratios.
# Fetching Apache, building Tandem and the class path are run-zk.sh's; this only names another driver.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ZK_BENCH_MAIN=io.tandem.bench.zookeeper.ZkMemoryBench exec "$here/run-zk.sh" "$@"
