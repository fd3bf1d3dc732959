#!/usr/bin/env bash
# The first consume on a fresh node: how long a consumer's group join waits while the broker creates
# __consumer_offsets (50 partitions), Tandem against Apache Kafka 4.4 with the same client (Kafka 4.4's
# ConsumerPerformance, classic group protocol). Per round and server: a fresh start, topic `bench` (3 partitions)
# with 1,000 records, then one ConsumerPerformance whose NetworkClient logs every request and answer (slf4j-simple
# at DEBUG for that one logger). Prints, from the client's own log: the time from its first FindCoordinator(GROUP)
# to the first JoinGroup answer that accepts the member (MEMBER_ID_REQUIRED, or none: the coordinator is loaded;
# before it NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS send the client back to FindCoordinator), the number of
# FindCoordinator requests up to then, and each answer's error with its time. Nothing here is asserted.
# Usage: bench/kafka/run-kafka-first-join.sh   env: ROUNDS=3 TARGETS="tandem apache" (the order of odd rounds; also
#        jar:<path>, a Tandem jar built earlier, run with the lib/ next to it (else this tree's) and the launcher's JVM
#        flags, no CDS archive),
#        TANDEM_JAVA_OPTS (default: the launcher's), TRACE=N (Tandem logs its first N requests, see RequestStages)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench-join"
mkdir -p "$work"
[ -e "$work/lib" ] || { [ -d "$root/bench/target/kafka-bench/lib" ] && ln -s ../kafka-bench/lib "$work/lib"; } || true
rounds=${ROUNDS:-3}
source "$root/bench/kafka/servers.sh"
if [ "${TRACE:-0}" -gt 0 ]; then export TANDEM_JAVA_OPTS="${TANDEM_JAVA_OPTS:--Xms16m -Xmx512m -XX:+UseSerialGC -XX:FreqInlineSize=100 -XX:MaxInlineLevel=6} -Dtandem.kafka.requestTrace=$TRACE"; fi

first_join() { # name port round
  local name=$1 port=$2 round=$3 bs="127.0.0.1:$2" log="$work/$1-$3-client.log"
  fill_topic "$bs" bench 3 1000 >/dev/null
  echo "  $name round $round (load $(cut -d' ' -f1-3 /proc/loadavg))"
  logged_consume "$log" "$bs" 1000
  # slf4j-simple's line: "HH:mm:ss.SSS [thread] DEBUG ... - [Consumer ...] Sending FIND_COORDINATOR request ...".
  awk '
    function ms(t,  p) { split(t, p, /[:.]/); return ((p[1] * 60 + p[2]) * 60 + p[3]) * 1000 + p[4] }
    function err(line) { sub(/.*errorCode=/, "", line); sub(/[^0-9-].*/, "", line); return line }
    ready { next }
    / Sending FIND_COORDINATOR request/ && /keyType=0/ { n++; if (!start) start = ms($1) }
    / Received FIND_COORDINATOR response/ && start { answers = answers sprintf(" %d@%d", err($0), ms($1) - start) }
    / Sending JOIN_GROUP request/ && !join_sent { join_sent = ms($1) - start }
    / Received JOIN_GROUP response/ { e = err($0); joins = joins sprintf(" %d@%d", e, ms($1) - start)
                                      if (e == 0 || e == 79) ready = ms($1) - start }
    END { printf "    FindCoordinator(GROUP) -> JoinGroup accepted (MEMBER_ID_REQUIRED): %d ms; %d FindCoordinator(GROUP) requests, answers (error@ms):%s; first JoinGroup sent at %d ms, answers:%s\n", ready, n, answers, join_sent, joins }' "$log"
  stop_server
}

each_round first_join 29292
