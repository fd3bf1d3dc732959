#!/usr/bin/env bash
# Long produce-and-read run with every codec (none, gzip, snappy, lz4, zstd) from kcat and the Apache Java client into
# one `./tandem start` broker for MINUTES; checkers read every record once, in order, unchanged, and the stored batches
# are checked for their producer's codec (bench/kafka/codec_soak.py says what runs). Prints the server's RSS, heap and
# thread count every SAMPLE_SECONDS and a verdict per client. Not run by CI; nothing is asserted.
# Usage: bench/kafka/run-kafka-codec-soak.sh   (env: MINUTES=12 RATE=100 per producer SAMPLE_SECONDS=30; more
#        options: the .py's --help)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-codec-soak"
port=${PORT:-39292}
mkdir -p "$work"
# The Java client (kafka-clients 4.4 with snappy-java, lz4-java and zstd-jni) from the jars servers.sh fetches.
source "$root/bench/kafka/servers.sh"
if [ ! -f "$work/client/CodecSoakClient.class" ] || [ "$root/bench/kafka/CodecSoakClient.java" -nt "$work/client/CodecSoakClient.class" ]; then
  mkdir -p "$work/client"
  javac -nowarn -cp "$work/lib/*" -d "$work/client" "$root/bench/kafka/CodecSoakClient.java"
fi
start_tandem "$port"
echo "revision $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), load $(cut -d' ' -f1-3 /proc/loadavg)," \
  "server up in ${startup_ms} ms, $(date -u +%H:%M) UTC"
/usr/bin/python3 "$root/bench/kafka/codec_soak.py" --bootstrap "127.0.0.1:$port" --minutes "${MINUTES:-12}" \
  --rate "${RATE:-100}" --sample-seconds "${SAMPLE_SECONDS:-30}" --server-pid "$server_pid" \
  --java-classpath "$work/client:$work/lib/*" "$@"
