#!/usr/bin/env bash
# Recovery after SIGKILL with a large log: Tandem against Apache Kafka, same machine, same run.
# Fills one partition with SIZE_GB of 1 KB records from an idempotent producer (Kafka's ProducerPerformance), kills
# the server with SIGKILL, starts it again on the same data, and measures the time from the restart to the first
# Metadata answer and to the first record acknowledged (acks=all, idempotent: it waits for the partition's log and
# producer state to be recovered).
# Usage: bench/kafka/run-kafka-recovery.sh   (env: SIZE_GB=2 TARGETS="tandem apache")
# Nothing here is asserted; figures go to docs/BENCHMARKS.md with this command.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench"
size_gb=${SIZE_GB:-2}
targets=${TARGETS:-"tandem apache"}
port=39092
# shellcheck source=servers.sh
source "$root/bench/kafka/servers.sh"

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

for target in $targets; do
  echo "== $target: filling one partition with ${size_gb} GB"
  "start_$target" "$port"
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" --create --topic recovery \
    --partitions 1 --replication-factor 1 >/dev/null
  tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "127.0.0.1:$port" --topic recovery \
    --num-records $((size_gb * 1024 * 1024)) --record-size 1024 --throughput -1 \
    --producer-props acks=all enable.idempotence=true linger.ms=5 batch.size=262144 | tail -1
  echo "  on disk: $(du -sm "$work/$target-data" | cut -f1) MiB; SIGKILL"
  kill_server
  t0=$(date +%s%N)
  "start_$target" "$port" keep
  ack_ms=$(first_ack_ms "$t0")
  echo "  $target after SIGKILL with ${size_gb} GB: first Metadata answer ${startup_ms} ms, first acknowledged record ${ack_ms} ms"
  stop_server
  rm -rf "$work/$target-data"
done
