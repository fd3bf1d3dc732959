#!/usr/bin/env bash
# A large SNAP to a real Apache ZooKeeper 3.9.5 follower (issue 14): a Tandem leader (tandem.quorumProtocol=apache)
# holding ZNODES znodes of 100 bytes syncs an Apache follower process that starts empty, by SNAP; the follower then
# serves the same tree (znode count and a digest of every path, data, version and mzxid compared through clients).
# It is server/.../zab/apache/ApacheLargeSnapProcessTest at a benchmark's size: it prints the fill time, the time from
# starting the Apache process to its following (the SNAP included) and the digest, and fails if the trees differ.
# Usage: bench/run-apache-large-snap.sh [ZNODES, default 200000] [heap of each member, default 1g]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
znodes=${1:-200000}
heap=${2:-1g}
cd "$here/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
mvn -B -q -o -pl server -am test -Dtest=ApacheLargeSnapProcessTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtandem.largeSnap.znodes="$znodes" -Dtandem.apacheHeap="$heap" > "$out" 2>&1 || status=$?
grep -h "large SNAP to an Apache" "$out" || tail -40 "$out"
echo "revision $(git rev-parse --short HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
