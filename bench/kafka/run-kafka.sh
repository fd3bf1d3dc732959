#!/usr/bin/env bash
# Side-by-side Kafka benchmark: Tandem against Apache Kafka (fetched from Maven Central now), same machine, same run,
# driven by Apache Kafka's own tools (ProducerPerformance, ConsumerPerformance, EndToEndLatency).
# Usage: bench/kafka/run-kafka.sh   (env: RECORDS=200000 FIXED_SECONDS=20 E2E_RECORDS=5000 TARGETS="tandem apache"
#        GC_LOG=<file>: Tandem's collections logged there, and those during the fixed-rate run printed)
# Prints every figure for both servers and the ratio Tandem/Apache. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench"
records=${RECORDS:-200000}
fixed_seconds=${FIXED_SECONDS:-20}
e2e_records=${E2E_RECORDS:-5000}
rate=5000
source "$root/bench/kafka/servers.sh"

declare -A figure
measure() { # name port
  local name=$1 port=$2 bs="127.0.0.1:$2" out
  sleep 2
  figure[$name.startup_ms]=$startup_ms
  figure[$name.idle_rss_mb]=$(rss_mb "$server_pid")
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic bench --partitions 3 --replication-factor 1 >/dev/null
  out=$(tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic bench --num-records "$records" \
        --record-size 1024 --throughput -1 --producer-props acks=all | tail -1)
  echo "  $name max rate: $out"
  figure[$name.produce_rec_s]=$(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$out")
  figure[$name.produce_p99_ms]=$(sed -E 's/.* ([0-9.]+) ms 99th.*/\1/' <<<"$out")
  local t0; t0=$(utc_now)
  out=$(tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic bench \
        --num-records $((rate * fixed_seconds)) --record-size 1024 --throughput "$rate" --producer-props acks=all | tail -1)
  echo "  $name at $rate/s: $out"
  [ "$name" != tandem ] || [ -z "${GC_LOG:-}" ] || echo "  $name during the fixed rate: $(gc_pauses_between "$t0" "$(utc_now)")"
  figure[$name.fixed_p50_ms]=$(sed -E 's/.* ([0-9.]+) ms 50th.*/\1/' <<<"$out")
  figure[$name.fixed_p99_ms]=$(sed -E 's/.* ([0-9.]+) ms 99th.*/\1/' <<<"$out")
  out=$(tool org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$bs" --topic bench \
        --num-records "$records" --timeout 60000 | tail -1)
  echo "  $name consume: $out"
  figure[$name.consume_rec_s]=$(awk -F', *' '{print $6}' <<<"$out")
  # EndToEndLatency (4.4) takes positional arguments: bootstrap-server topic num-records producer-acks record-size.
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic e2e --partitions 1 --replication-factor 1 >/dev/null
  out=$(tool org.apache.kafka.tools.EndToEndLatency "$bs" e2e "$e2e_records" all 1024 | grep -E 'Avg latency|Percentiles' || true)
  echo "  $name end-to-end: $(tr '\n' ' ' <<<"$out")"
  figure[$name.e2e_p99_ms]=$(sed -nE 's/.*99th = ([0-9.]+).*/\1/p' <<<"$out")
  figure[$name.loaded_rss_mb]=$(rss_mb "$server_pid")
  stop_server
}

for target in ${TARGETS:-tandem apache}; do
  case $target in
    tandem) echo "== Tandem"; start_tandem 29092; measure tandem 29092 ;;
    apache) echo "== Apache Kafka"; start_apache 39092; measure apache 39092 ;;
  esac
done

printf '\n%-16s %14s %14s %10s\n' metric tandem apache ratio
for m in startup_ms idle_rss_mb loaded_rss_mb produce_rec_s produce_p99_ms fixed_p50_ms fixed_p99_ms consume_rec_s e2e_p99_ms; do
  t=${figure[tandem.$m]:-?}; a=${figure[apache.$m]:-?}
  r=$(awk -v t="$t" -v a="$a" 'BEGIN { if (a+0 > 0 && t ~ /^[0-9.]+$/) printf "%.2f", t/a; else print "?" }')
  printf '%-16s %14s %14s %10s\n' "$m" "$t" "$a" "$r"
done
