#!/usr/bin/env bash
# What sets a produce's tail latency at a fixed rate: ProducerPerformance at 5,000 records/s (1 KB, acks=all, 3
# partitions, as run-kafka.sh) against a fresh `./tandem start` that records each Produce request's server-side stages
# (-Dtandem.kafka.requestStages=Produce: wait for a handler, decode, handle, write; see RequestStages) and logs its
# collections (-Xlog:gc). Prints the client's figures (its 5-second windows, the whole run, and the steady state after
# WARMUP_RECORDS, ProducerPerformance's --warmup-records), the server's stage percentiles over the whole run, and the
# server's GC pauses, with the load average. TARGETS="tandem apache" runs Apache Kafka the same way after (client
# figures only). Nothing here is asserted.
# Where a client's first seconds go: the producer's own metrics split its latency into the wait for metadata inside
# its first send (metadata-wait-time-ns-total), the time records queue in its accumulator (record-queue-time) and
# the request round trip (request-latency); with TRACE=N the server logs its first N requests one by one
# (-Dtandem.kafka.requestTrace) and the script sums its time for the client's first 30 Produce requests.
# CLIENT_LOG=1 prints the producer's own WARN and ERROR lines (why a batch expired or was retried): the tools' class
# path has slf4j's API without a binding, so the client's log is otherwise dropped; slf4j-simple is fetched once.
# Usage: bench/kafka/run-kafka-fixed-rate-stages.sh
#   env: FIXED_SECONDS=20 RATE=5000 WARMUP_RECORDS=10000 EXTRA_PROPS="linger.ms=0" TARGETS=tandem TRACE=200
#        CLIENT_LOG=1 TANDEM_JAVA_OPTS (default: the launcher's flags)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# Its own data dir and log, so it can run beside the other Kafka benchmarks; Apache's jars are shared with them.
work="$root/bench/target/kafka-bench-stages"
mkdir -p "$work"
[ -e "$work/lib" ] || { [ -d "$root/bench/target/kafka-bench/lib" ] && ln -s ../kafka-bench/lib "$work/lib"; } || true
fixed_seconds=${FIXED_SECONDS:-20}
rate=${RATE:-5000}
warmup=${WARMUP_RECORDS:-10000}
source "$root/bench/kafka/servers.sh"
gc_log="$work/fixed-rate-gc.log"
client_log=()
if [ -n "${CLIENT_LOG:-}" ]; then
  [ -d "$work/client-log" ] || mvn -q -B dependency:copy -Dartifact=org.slf4j:slf4j-simple:1.7.36 \
    -DoutputDirectory="$work/client-log"
  client_log=(-cp "$work/lib/*:$work/client-log/*" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
    -Dorg.slf4j.simpleLogger.showDateTime=true)
fi

fixed_rate() { # port
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$1" --create --topic bench --partitions 3 \
    --replication-factor 1 >/dev/null
  # The later -cp wins: with CLIENT_LOG the same jars plus slf4j-simple.
  tool "${client_log[@]}" org.apache.kafka.tools.ProducerPerformance --bootstrap-server "127.0.0.1:$1" --topic bench \
    --num-records $((rate * fixed_seconds)) --record-size 1024 --throughput "$rate" --warmup-records "$warmup" \
    --print-metrics --producer-props acks=all ${EXTRA_PROPS:-} | grep -v deprecated \
    | awk '/^producer-metrics:(metadata-wait-time-ns-total|record-queue-time-(avg|max)|request-latency-(avg|max))/ {
             split($1, name, "[:{]"); v = $NF; if (name[2] ~ /-ns-/) { v = sprintf("%.0f", v / 1e6); name[2] = name[2] " (ms)" }
             printf "  client metric: %s %s\n", name[2], v; next }
           /^[a-z-]+:/ { next } { print "  client: " $0 }'
}

for target in ${TARGETS:-tandem}; do
  case $target in
    tandem)
      rm -f "$gc_log"
      : > "$work/tandem.log"
      # Added to the launcher's own flags (all of them, its JIT choice included), or to TANDEM_JAVA_OPTS when set.
      export TANDEM_ADD_OPTS="-Dtandem.kafka.requestStages=Produce -Dtandem.kafka.requestTrace=${TRACE:-0}" GC_LOG="$gc_log"
      echo "== Tandem, $rate records/s for $fixed_seconds s, load $(cut -d' ' -f1-3 /proc/loadavg)"
      start_tandem 29192
      fixed_rate 29192
      sleep 7 # the stage report comes every 5 s
      echo "  server stages (all Produce requests of the run):"
      grep "Produce stage" "$work/tandem.log" | tail -5 | sed -E 's/.*Produce stage/    /'
      echo "  server RSS after the run: $(rss_mb "$server_pid") MiB"
      awk '/Pause/ { n++; ms = $NF + 0; total += ms; if (ms > max) max = ms } END { printf "  server GC: %d pauses, %.1f ms in all, longest %.1f ms\n", n, total, max }' "$gc_log"
      if [ "${TRACE:-0}" -gt 0 ]; then
        echo "  server, the client's first requests (read at ms since start: API, stages):"
        grep "Request trace" "$work/tandem.log" | grep -v Produce | sed -E 's/.*Request trace: read at /    /; s/ from [^ ]+ correlation [0-9]+,//'
        grep "Request trace" "$work/tandem.log" | grep Produce \
          | sed -E 's/.*read at ([0-9.]+) ms.*wait ([0-9.]+) decode ([0-9.]+) handle ([0-9.]+) write ([0-9.]+) total ([0-9.]+) ms/\1 \2 \3 \4 \5 \6/' \
          | awk 'NR == 1 { first = $1 } NR <= 30 { w += $2; d += $3; h += $4; r += $5; t += $6; last = $1 }
                 END { if (NR) printf "    first %d Produce requests, read over %.1f ms: server time %.1f ms (wait %.1f, decode %.1f, handle %.1f, write %.1f)\n", (NR < 30 ? NR : 30), last - first, t, w, d, h, r }'
      fi
      stop_server ;;
    apache)
      echo "== Apache Kafka, $rate records/s for $fixed_seconds s, load $(cut -d' ' -f1-3 /proc/loadavg)"
      start_apache 39192
      fixed_rate 39192
      stop_server ;;
  esac
  echo "  load after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
