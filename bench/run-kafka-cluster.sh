#!/usr/bin/env bash
# Three-broker Kafka clusters side by side on this machine: Tandem (one Tandem ZooKeeper, three Tandem brokers) and
# Apache Kafka 3.9.1 in ZooKeeper mode (one Apache ZooKeeper 3.8 from the same download, three Apache brokers; jars
# fetched from Maven Central now). Same topology, same keys, same client jars for both. Topic: 3 partitions,
# replication factor 3, min.insync.replicas=2.
#  - produce: Apache's ProducerPerformance, 1 KB records, acks=all, as fast as it goes;
#  - consume: Apache's ConsumerPerformance (a consumer group of one) reading those RECORDS back from the start;
#  - p99 at a fixed rate: ProducerPerformance again at RATE records/s for RATE_RECORDS records (1 KB, acks=all), a
#    load both clusters keep up with, so the latency is the cluster's and not a queue behind it;
#  - failover: an idempotent acks=all producer on partition 0, its leader killed with SIGKILL; the time from the
#    kill to the first acknowledgement of a record sent after it (bench/kafka/ClusterProbe.java), FAILOVERS times,
#    the killed broker restarted and back in sync before the next kill. zookeeper.session.timeout.ms=SESSION_MS on
#    both, since a killed broker is noticed when its session expires.
# Usage: bench/run-kafka-cluster.sh
#   (env: RECORDS=100000 RATE=2000 RATE_RECORDS=30000 FAILOVERS=3 SESSION_MS=6000 TARGETS="tandem apache")
# Prints every figure and the ratio Tandem/Apache. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/bench/target/kafka-cluster-bench"
records=${RECORDS:-100000}
failovers=${FAILOVERS:-3}
rate=${RATE:-2000}
rate_records=${RATE_RECORDS:-30000}
session_ms=${SESSION_MS:-6000}
mkdir -p "$work"

if [ ! -d "$work/lib" ]; then
  echo "fetching Apache Kafka 3.9.1 from Maven Central..."
  mvn -q -B -f "$root/bench/kafka/apache-kafka-3.9.pom.xml" dependency:copy-dependencies -DoutputDirectory="$work/lib"
fi
# Rebuild Tandem when the jar is missing or older than any source, so the run measures the code in this tree.
jar="$root/server/target/tandem-server.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root"/*/src/main "$root"/pom.xml "$root"/*/pom.xml -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -q -B -DskipTests package)
fi

# grep exits 1 when a tool prints nothing else, which pipefail would turn into an abort of the whole run.
tool() { java -Xmx512m -cp "$work/lib/*" "$@" 2>&1 | { grep -v '^SLF4J' || true; }; }
probe() { tool "$root/bench/kafka/ClusterProbe.java" "$@"; }

declare -A pid
zk_pid=""
stop_all() {
  for id in 1 2 3; do
    if [ -n "${pid[$id]:-}" ]; then kill "${pid[$id]}" 2>/dev/null || true; wait "${pid[$id]}" 2>/dev/null || true; fi
    pid[$id]=""
  done
  if [ -n "$zk_pid" ]; then kill "$zk_pid" 2>/dev/null || true; wait "$zk_pid" 2>/dev/null || true; fi
  zk_pid=""
}
trap stop_all EXIT

# Broker keys both products read the same way; each broker adds its id, listener, log dir and ZooKeeper.
common_keys="zookeeper.session.timeout.ms=$session_ms
offsets.topic.replication.factor=3
default.replication.factor=3
min.insync.replicas=2
group.initial.rebalance.delay.ms=0"

start_zk() { # target
  local dir="$work/$1-zk"
  rm -rf "$dir"; mkdir -p "$dir"
  case $1 in
    apache) # The heap of Kafka's zookeeper-server-start.sh; the admin server would take port 8080.
      java -Xmx512M -Xms512M -Dzookeeper.admin.enableServer=false -cp "$work/lib/*" \
        org.apache.zookeeper.server.ZooKeeperServerMain "$zk_port" "$dir" > "$work/apache-zk.log" 2>&1 & ;;
    tandem)
      "$root/tandem" start --roles zookeeper --zk-port "$zk_port" --data-dir "$dir" > "$work/tandem-zk.log" 2>&1 & ;;
  esac
  zk_pid=$!
}

start_broker() { # target id
  local target=$1 id=$2 port=$((base_port + $2)) dir="$work/$1-broker$2"
  mkdir -p "$dir"
  case $target in
    apache)
      { echo "$common_keys"; echo "broker.id=$id"; echo "listeners=PLAINTEXT://127.0.0.1:$port"
        echo "log.dirs=$dir/logs"; echo "zookeeper.connect=127.0.0.1:$zk_port"; } > "$dir/server.properties"
      # The JVM flags of Apache's kafka-server-start.sh.
      java -Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -cp "$work/lib/*" kafka.Kafka "$dir/server.properties" >> "$work/apache-broker$id.log" 2>&1 & ;;
    tandem)
      { echo "$common_keys"; echo "broker.id=$id"; echo "listeners=PLAINTEXT://127.0.0.1:$port"
        echo "zookeeper.connect=127.0.0.1:$zk_port"; } > "$dir/server.properties"
      "$root/tandem" start --roles kafka -c "$dir/server.properties" --kafka-port "$port" --data-dir "$dir" \
        >> "$work/tandem-broker$id.log" 2>&1 & ;;
  esac
  pid[$id]=$!
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END { if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "?" }'; }

declare -A figure
measure() { # target
  local target=$1 bs out times="" killed
  case $target in apache) zk_port=32181; base_port=39100 ;; tandem) zk_port=22181; base_port=29100 ;; esac
  rm -rf "$work/$target"-broker*
  bs="127.0.0.1:$((base_port + 1)),127.0.0.1:$((base_port + 2)),127.0.0.1:$((base_port + 3))"
  start_zk "$target"
  for id in 1 2 3; do start_broker "$target" "$id"; done
  figure[$target.ready_ms]=$(probe brokers "$bs" 3 | tail -1)
  echo "  $target: three brokers registered ${figure[$target.ready_ms]} ms after the probe started"
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic bench --partitions 3 \
    --replication-factor 3 --config min.insync.replicas=2 >/dev/null
  probe in-sync "$bs" bench
  out=$(tool org.apache.kafka.tools.ProducerPerformance --topic bench --num-records "$records" --record-size 1024 \
        --throughput -1 --producer-props acks=all bootstrap.servers="$bs" | tail -1)
  echo "  $target produce: $out"
  figure[$target.produce_rec_s]=$(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$out")
  figure[$target.produce_mb_s]=$(sed -E 's/.*records\/sec \(([0-9.]+) MB\/sec\).*/\1/' <<<"$out")
  figure[$target.produce_p50_ms]=$(sed -E 's/.* ([0-9.]+) ms 50th.*/\1/' <<<"$out")
  figure[$target.produce_p99_ms]=$(sed -E 's/.* ([0-9.]+) ms 99th.*/\1/' <<<"$out")
  # One line of figures without the header: start, end, MB, MB/s, records, records/s, rebalance ms, fetch ms,
  # fetch MB/s, fetch records/s. The fetch figures leave the group's join out, so they measure the reading.
  out=$(tool org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$bs" --topic bench \
        --messages "$records" --timeout 60000 --hide-header | tail -1)
  echo "  $target consume: $out"
  figure[$target.consume_rec_s]=$(awk -F', *' '{ print $10 }' <<<"$out")
  figure[$target.consume_mb_s]=$(awk -F', *' '{ print $9 }' <<<"$out")
  out=$(tool org.apache.kafka.tools.ProducerPerformance --topic bench --num-records "$rate_records" \
        --record-size 1024 --throughput "$rate" --producer-props acks=all bootstrap.servers="$bs" | tail -1)
  echo "  $target produce at $rate records/s: $out"
  figure[$target.rate_rec_s]=$(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$out")
  figure[$target.rate_p50_ms]=$(sed -E 's/.* ([0-9.]+) ms 50th.*/\1/' <<<"$out")
  figure[$target.rate_p99_ms]=$(sed -E 's/.* ([0-9.]+) ms 99th.*/\1/' <<<"$out")
  for ((f = 1; f <= failovers; f++)); do
    out=$(probe failover "$bs" bench 1="${pid[1]}" 2="${pid[2]}" 3="${pid[3]}")
    killed=$(sed -nE 's/^killed=([0-9]+)$/\1/p' <<<"$out")
    echo "  $target failover $f: broker $killed killed at $(date +%T), $(grep failover_ms <<<"$out")"
    times="$times $(sed -nE 's/^failover_ms=([0-9]+).*/\1/p' <<<"$out")"
    wait "${pid[$killed]}" 2>/dev/null || true
    start_broker "$target" "$killed"
    probe in-sync "$bs" bench
  done
  figure[$target.failover_ms]=$(median <<<"$times")
  stop_all
}

echo "uptime: $(uptime)"
for target in ${TARGETS:-tandem apache}; do
  echo "== $target"
  measure "$target"
done

printf '\n%-16s %14s %14s %10s\n' metric tandem apache ratio
for m in ready_ms produce_rec_s produce_mb_s produce_p50_ms produce_p99_ms consume_rec_s consume_mb_s rate_rec_s \
         rate_p50_ms rate_p99_ms failover_ms; do
  t=${figure[tandem.$m]:-?}; a=${figure[apache.$m]:-?}
  r=$(awk -v t="$t" -v a="$a" 'BEGIN { if (a+0 > 0 && t ~ /^[0-9.]+$/) printf "%.2f", t/a; else print "?" }')
  printf '%-16s %14s %14s %10s\n' "$m" "$t" "$a" "$r"
done
