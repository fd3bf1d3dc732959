#!/usr/bin/env bash
# Where the time of a ConsumerPerformance run goes, request by request, Tandem against Apache Kafka 4.4 with the same
# client (Kafka 4.4's ConsumerPerformance, classic group protocol, default settings, a new group each consume). Per
# round and server: a fresh start, topic `bench` (3 partitions), RECORDS records of 1 KB produced with acks=all, then
# CONSUMES ConsumerPerformance runs over them whose NetworkClient logs every request and answer (slf4j-simple at
# DEBUG for that one logger). Consume 1 also has the broker create __consumer_offsets (as run-kafka.sh's only consume).
# Prints, per consume, from the client's own log, milliseconds from its first request: when each step of the join
# and of the first fetch was answered (FindCoordinator naming the coordinator, JoinGroup with MEMBER_ID_REQUIRED,
# JoinGroup accepted, SyncGroup, OffsetFetch, ListOffsets, the first Fetch sent and answered, the last Fetch
# answered), the round trip of each of those (sent to answered), the number of Fetch requests, and the tool's own
# rebalance and fetch times. The logging costs the client some CPU: compare servers under it, not with other scripts.
# Nothing here is asserted.
# Usage: bench/kafka/run-kafka-consume-timeline.sh   env: ROUNDS=3 RECORDS=200000 CONSUMES=2 TARGETS="tandem apache"
#        (the order of odd rounds; also jar:<path>, a Tandem jar built earlier with the lib/ next to it, else this
#        tree's, and the launcher's JVM flags), TRACE=N (Tandem logs its first N requests' stages, see RequestStages)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench-timeline"
mkdir -p "$work"
[ -e "$work/lib" ] || { [ -d "$root/bench/target/kafka-bench/lib" ] && ln -s ../kafka-bench/lib "$work/lib"; } || true
rounds=${ROUNDS:-3}
records=${RECORDS:-200000}
consumes=${CONSUMES:-2}
source "$root/bench/kafka/servers.sh"
if [ "${TRACE:-0}" -gt 0 ]; then export TANDEM_JAVA_OPTS="${TANDEM_JAVA_OPTS:--Xms16m -Xmx512m -XX:+UseSerialGC -XX:FreqInlineSize=100 -XX:MaxInlineLevel=6} -Dtandem.kafka.requestTrace=$TRACE"; fi

timeline() { # name port round
  local name=$1 port=$2 round=$3 bs="127.0.0.1:$2" i log out
  sleep 2
  fill_topic "$bs" bench 3 "$records" >/dev/null
  for ((i = 1; i <= consumes; i++)); do
    log="$work/$name-$round-$i-client.log"
    echo "  $name round $round consume $i (load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S))"
    logged_consume "$log" "$bs" "$records"
    out=$(grep -v '^SLF4J' "$log" | grep -E '^[0-9]{4}-' | tail -1 || true)
    # slf4j-simple's line: "HH:mm:ss.SSS [thread] DEBUG ... - [Consumer ...] Sending JOIN_GROUP request with header
    # RequestHeader(apiKey=JOIN_GROUP, apiVersion=9, clientId=..., correlationId=7, ...) and timeout ... to node ...".
    awk -v perf="$out" '
      function ms(t,  p) { split(t, p, /[:.]/); return ((p[1] * 60 + p[2]) * 60 + p[3]) * 1000 + p[4] }
      function err(line) { if (line !~ /errorCode=/) return "?"; sub(/.*errorCode=/, "", line); sub(/[^0-9-].*/, "", line); return line }
      function api(line) { sub(/.*(Sending|Received) /, "", line); sub(/ .*/, "", line); return line }
      function corr(line) { sub(/.*correlationId=/, "", line); sub(/[^0-9].*/, "", line); return line }
      / Sending [A-Z_]+ request/ { t = ms($1); if (!start) start = t; sent[corr($0)] = t
                                  a = api($0); if (a == "FETCH") { fetches++; if (!fetch_sent) fetch_sent = t - start } }
      / Received [A-Z_]+ response/ {
        t = ms($1) - start; a = api($0); c = corr($0); rt = (c in sent) ? t - (sent[c] - start) : -1; e = err($0)
        if (a == "FIND_COORDINATOR") {
          if (e == 0 && !found) { found = t; steps = steps sprintf(" coordinator@%d(%d)", t, rt) } else if (e != 0) fc_err++ }
        else if (a == "JOIN_GROUP") steps = steps sprintf(" join%s@%d(%d)", e == 0 ? "" : "[" e "]", t, rt)
        else if (a == "SYNC_GROUP") steps = steps sprintf(" sync@%d(%d)", t, rt)
        else if (a == "OFFSET_FETCH" && !of) { of = 1; steps = steps sprintf(" offsetfetch@%d(%d)", t, rt) }
        else if (a == "LIST_OFFSETS" && !lo) { lo = 1; steps = steps sprintf(" listoffsets@%d(%d)", t, rt) }
        else if (a == "FETCH") { if (!ff) { ff = 1; steps = steps sprintf(" fetch1@%d(%d)", t, rt) } last = t }
      }
      END {
        n = split(perf, f, /, */)
        printf "    steps (ms from the first request; round trip in brackets):%s; first Fetch sent at %d, last answered at %d, %d Fetch requests, %d FindCoordinator errors; tool: %s records/s, rebalance %s ms, fetch %s ms\n",
          steps, fetch_sent, last, fetches, fc_err, f[6], f[7], f[8] }' "$log"
  done
  stop_server
}

each_round timeline 29392
