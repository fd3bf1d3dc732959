#!/usr/bin/env bash
# Recovery after SIGKILL with a large log: Tandem against Apache Kafka, same machine, same run.
# Fills one partition with SIZE_GB of 1 KB records from an idempotent producer (Kafka's ProducerPerformance), kills
# the server with SIGKILL, starts it again on the same data, and measures the time from the restart to the first
# Metadata answer and to the first record acknowledged (acks=all, idempotent: it waits for the partition's log and
# producer state to be recovered). Also prints the bytes on disk and the server's log lines about recovery.
# Usage: bench/kafka/run-kafka-recovery.sh   (env: SIZE_GB=2 TARGETS="tandem apache")
# Nothing here is asserted; figures go to docs/BENCHMARKS.md with this command.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-recovery"
size_gb=${SIZE_GB:-2}
targets=${TARGETS:-"tandem apache"}
records=$((size_gb * 1024 * 1024))
port=39092
mkdir -p "$work"

lib="$root/bench/target/kafka-bench/lib"
if [ ! -d "$lib" ]; then
  echo "fetching Apache Kafka from Maven Central..."
  mvn -q -B -f "$root/bench/kafka/apache-kafka.pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib"
fi
jar="$root/server/target/tandem-server.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root"/*/src/main "$root"/pom.xml "$root"/*/pom.xml -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -q -B -DskipTests package)
fi

tool() { java -Xmx512m -cp "$lib/*" "$@" 2>&1 | { grep -v '^SLF4J' || true; }; }
server_pid=""
stop_server() { if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi; server_pid=""; }
trap stop_server EXIT

# The first acknowledged record after a restart: an idempotent acks=all producer, retried until it succeeds.
first_ack_ms() { # t0_ns
  /usr/bin/python3 - "$port" "$1" <<'PY'
import sys, time
from kafka import KafkaProducer
port, t0 = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 600
while time.time() < deadline:
    try:
        p = KafkaProducer(bootstrap_servers="127.0.0.1:" + port, acks="all", retries=0, request_timeout_ms=5000,
                          max_block_ms=5000, api_version_auto_timeout_ms=5000)
        p.send("recovery", b"after-restart", partition=0).get(timeout=30)
        p.close()
        print((time.time_ns() - t0) / 1e6)
        sys.exit(0)
    except Exception:
        time.sleep(0.05)
print("never", file=sys.stderr)
sys.exit(1)
PY
}

start_tandem() { # fresh?
  local dir="$work/tandem-data"
  [ "$1" = fresh ] && rm -rf "$dir"
  "$root/tandem" start --data-dir "$dir" --kafka-port "$port" --zk-port $((port + 1)) >> "$work/tandem.log" 2>&1 &
  server_pid=$!
}

start_apache() { # fresh?
  local dir="$work/apache-data"
  cat > "$work/apache.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((port + 1))
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
PROPS
  if [ "$1" = fresh ]; then
    rm -rf "$dir"
    tool kafka.tools.StorageTool format -t "$(tool kafka.tools.StorageTool random-uuid | tail -1)" \
      -c "$work/apache.properties" >/dev/null
  fi
  java -Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -cp "$lib/*" kafka.Kafka "$work/apache.properties" >> "$work/apache.log" 2>&1 &
  server_pid=$!
}

for target in $targets; do
  : > "$work/$target.log"
  echo "== $target: filling one partition with ${size_gb} GB"
  t0=$(date +%s%N); "start_$target" fresh
  /usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$t0" >/dev/null
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" --create --topic recovery \
    --partitions 1 --replication-factor 1 >/dev/null
  tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "127.0.0.1:$port" --topic recovery \
    --num-records "$records" --record-size 1024 --throughput -1 \
    --producer-props acks=all enable.idempotence=true linger.ms=5 batch.size=262144 | tail -1
  bytes=$(du -sb "$work/$target-data" | cut -f1)
  echo "  on disk: $((bytes / 1024 / 1024)) MiB; SIGKILL"
  stop_server
  t0=$(date +%s%N); "start_$target" again
  metadata_ms=$(/usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$t0")
  ack_ms=$(first_ack_ms "$t0")
  echo "  $target after SIGKILL with ${size_gb} GB: first Metadata answer ${metadata_ms} ms, first acknowledged record ${ack_ms} ms"
  grep -iE "recover|snapshot|torn" "$work/$target.log" | tail -5 || true
  stop_server
  rm -rf "$work/$target-data"
done
