#!/usr/bin/env bash
# Kafka at scale: Tandem against Apache Kafka 4.4 (KRaft, the set-up of servers.sh) with TOPICS x PARTITIONS partitions
# on one node, same machine, same run, in alternating rounds. Per round and server:
#   cold start (spawn to first Metadata answer, empty data dir), creation of every topic (10 per CreateTopics request,
#   until every partition has a leader), memory with the partitions created (live heap after a full GC as counted by
#   `jcmd GC.class_histogram`, and RSS), Metadata latency (raw v12 requests one at a time: all topics, and one topic),
#   produce spread round-robin over every partition (1 KB, acks=all, linger.ms=5), memory again, then a restart on
#   the same data (SIGTERM, timing until the process exits; start again): time to the first Metadata answer and to
#   "ready" (every partition has a leader and a record to every topic is acknowledged), and memory after the restart.
# Usage: bench/kafka/run-kafka-scale.sh   (env: ROUNDS=3 TOPICS=100 PARTITIONS=100 RECORDS=20000 METADATA_COUNT=50
#        TARGETS="tandem apache")
# Prints every figure per round, then medians (with ranges) and the ratio Tandem/Apache. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-scale"
rounds=${ROUNDS:-3}
topics=${TOPICS:-100}
partitions=${PARTITIONS:-100}
records=${RECORDS:-20000}
metadata_count=${METADATA_COUNT:-50}
targets=${TARGETS:-"tandem apache"}
port=${PORT:-29092}
source "$root/bench/kafka/servers.sh"

# Compiled once, so the timed steps (the restart's "ready" above all) do not include compiling the probe.
if [ ! -f "$work/probe/ScaleProbe.class" ] || [ "$root/bench/kafka/ScaleProbe.java" -nt "$work/probe/ScaleProbe.class" ]; then
  mkdir -p "$work/probe"
  javac -nowarn -cp "$work/lib/*" -d "$work/probe" "$root/bench/kafka/ScaleProbe.java"
fi
probe() { java -Xmx512m -cp "$work/probe:$work/lib/*" ScaleProbe "$@" 2>&1 | { grep -v '^SLF4J' || true; }; }
live_heap_mb() { # the Total line of a class histogram, which runs a full GC first (same for every collector)
  jcmd "$1" GC.class_histogram 2>/dev/null | awk '/^Total/ {printf "%.1f", $3/1048576}'
}
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
maps() { wc -l < "/proc/$1/maps"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# servers.sh starts from an empty data dir; the restart keeps it.
restart_tandem() {
  local t0; t0=$(date +%s%N)
  "$root/tandem" start --data-dir "$work/tandem-data" --kafka-port "$port" --zk-port $((port + 1)) \
    --set group.initial.rebalance.delay.ms=0 >> "$work/tandem.log" 2>&1 &
  server_pid=$!
  restart_t0=$t0
  startup_ms=$(/usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$t0")
}
restart_apache() {
  local t0; t0=$(date +%s%N)
  java -Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    ${APACHE_JAVA_OPTS:-} -cp "$work/lib/*" kafka.Kafka "$work/apache.properties" >> "$work/apache.log" 2>&1 &
  server_pid=$!
  restart_t0=$t0
  startup_ms=$(/usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$t0")
}

declare -A figure
metrics="cold_start_ms create_ms heap_mb rss_mb fds maps meta_all_p50_ms meta_all_p99_ms meta_one_p50_ms meta_one_p99_ms
  meta_all_kb produce_rec_s produce_p50_ms produce_p99_ms heap_loaded_mb rss_loaded_mb stop_ms restart_meta_ms restart_ready_ms
  heap_restart_mb rss_restart_mb"
put() { figure[$1.$2]="${figure[$1.$2]:-} $3"; echo "  $2=$3"; }

measure() { # name
  local name=$1 bs="127.0.0.1:$port" out
  echo "== $name round $round (load $(load))"
  "start_$name" "$port"
  put "$name" cold_start_ms "$startup_ms"
  put "$name" create_ms "$(probe create "$bs" "$topics" "$partitions")"
  sleep 5
  put "$name" heap_mb "$(live_heap_mb "$server_pid")"
  put "$name" rss_mb "$(rss_mb "$server_pid")"
  put "$name" fds "$(fds "$server_pid")"
  put "$name" maps "$(maps "$server_pid")"
  read -r a50 a99 o50 o99 abytes <<<"$(probe metadata "$bs" "$metadata_count" | tail -1)"
  put "$name" meta_all_p50_ms "$a50"; put "$name" meta_all_p99_ms "$a99"
  put "$name" meta_one_p50_ms "$o50"; put "$name" meta_one_p99_ms "$o99"
  put "$name" meta_all_kb "$((abytes / 1024))"
  read -r rate p50 p99 <<<"$(probe produce "$bs" "$topics" "$partitions" "$records" | tail -1)"
  put "$name" produce_rec_s "$rate"; put "$name" produce_p50_ms "$p50"; put "$name" produce_p99_ms "$p99"
  put "$name" heap_loaded_mb "$(live_heap_mb "$server_pid")"
  put "$name" rss_loaded_mb "$(rss_mb "$server_pid")"
  local t0; t0=$(date +%s%N)
  stop_server
  put "$name" stop_ms "$(( ($(date +%s%N) - t0) / 1000000 ))"
  "restart_$name"
  put "$name" restart_meta_ms "$startup_ms"
  put "$name" restart_ready_ms "$(probe ready "$bs" "$topics" "$partitions" "$restart_t0")"
  sleep 5
  put "$name" heap_restart_mb "$(live_heap_mb "$server_pid")"
  put "$name" rss_restart_mb "$(rss_mb "$server_pid")"
  stop_server
}

echo "Kafka at scale: $topics topics x $partitions partitions, $records records, $rounds rounds; $(nproc) cores, load $(load)"
for round in $(seq 1 "$rounds"); do
  # Alternate which server goes first, so neither always runs on the machine the other just warmed or loaded.
  order=$targets
  [ $((round % 2)) -eq 0 ] && order=$(tr ' ' '\n' <<<"$targets" | tac | tr '\n' ' ')
  for target in $order; do measure "$target"; done
done
echo "load at the end: $(load)"

median_range() { # values...
  tr ' ' '\n' <<<"$*" | grep -E '^[0-9.]+$' | sort -g | awk '{v[NR]=$1} END {
    if (NR == 0) { print "? ?"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%s %s-%s\n", m, v[1], v[NR] }'
}
printf '\n%-18s %12s %22s %12s %22s %8s\n' metric tandem "(range)" apache "(range)" ratio
for m in $metrics; do
  read -r t tr_ <<<"$(median_range ${figure[tandem.$m]:-})"
  read -r a ar <<<"$(median_range ${figure[apache.$m]:-})"
  r=$(awk -v t="$t" -v a="$a" 'BEGIN { if (a+0 > 0 && t ~ /^[0-9.]+$/) printf "%.2f", t/a; else print "?" }')
  printf '%-18s %12s %22s %12s %22s %8s\n' "$m" "$t" "$tr_" "$a" "$ar" "$r"
done
