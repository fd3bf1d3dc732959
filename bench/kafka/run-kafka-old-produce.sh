#!/usr/bin/env bash
# Long mixed-version produce run: Produce v0-v2 (magic 0 and 1 message sets, plain and compressed) from kafka-python
# and kcat beside current clients, into one Tandem broker for MINUTES; four checkers of different Fetch generations
# read every record once and in order per key (bench/kafka/old_produce_soak.py says what runs). Prints the server's
# RSS every 30 s and a verdict per client. Not run by CI; nothing is asserted.
# Usage: bench/kafka/run-kafka-old-produce.sh   (env: MINUTES=10 RATE=100 per producer; more options: the .py's --help)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-old-produce"
port=${PORT:-39192}
jar="$root/server/target/tandem-server.jar"
# Rebuild when the jar is missing or older than any source, so the run exercises the code in this tree.
if [ ! -f "$jar" ] || [ -n "$(find "$root"/*/src/main "$root"/pom.xml "$root"/*/pom.xml -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -q -B -DskipTests package)
fi
rm -rf "$work"; mkdir -p "$work"
"$root/tandem" start --data-dir "$work/data" --kafka-port "$port" --zk-port $((port + 1)) > "$work/tandem.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT
/usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$(date +%s%N)" > /dev/null
echo "revision $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$root/bench/kafka/old_produce_soak.py" --bootstrap "127.0.0.1:$port" --minutes "${MINUTES:-10}" \
  --rate "${RATE:-100}" --server-pid "$server_pid" "$@"
