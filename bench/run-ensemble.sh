#!/usr/bin/env bash
# Side-by-side ZooKeeper ensemble benchmark on loopback (3 voters, or --members 5, and --observers N): Apache ZooKeeper 3.9.5 (fetched from Maven Central
# now) and Tandem, each node its own process, driven by the official ZooKeeper Java client (bench/src/test/java).
# Usage: bench/run-ensemble.sh [--targets tandem,apache] [--clients 9] [--inflight 32] [--ops 18000] [--data-bytes 100]
#                              [--warmup 3600] [--failovers 3] [--members 3] [--observers 0]
# Prints ops/s, p50, p99 per phase, the failover time after SIGKILLing the leader, and the Tandem/Apache ratios.
# Nothing here is asserted. Fetching, building and the class path are run-zk.sh's; only the driver differs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ZK_BENCH_MAIN=io.tandem.bench.ensemble.EnsembleBench exec "$here/run-zk.sh" "$@"
