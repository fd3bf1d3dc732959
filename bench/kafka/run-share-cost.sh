#!/usr/bin/env bash
# Share-group cost, Tandem beside Apache Kafka 4.4 (issue 10, share groups): per server, a fresh start, topic
# `share-bench` (PARTITIONS, 3) holding RECORDS records of 1 KB (ProducerPerformance, acks=all), then one
# KafkaShareConsumer 4.4 (ShareCostProbe.java, implicit acknowledgement, share.auto.offset.reset=earliest) reads
# every record once: the join and initialization time (subscribe to first record), the consume time (first record
# to the last acknowledgement written), and the server process's CPU (user + system, /proc/PID/stat) over the
# probe's whole run, in all and per 1000 records: what the share group coordinator, the share-partition leader's
# acquisitions and acknowledgements and the share coordinator's state writes cost each server. Servers alternate
# per round (odd rounds Tandem first). Nothing is asserted.
# Usage: bench/kafka/run-share-cost.sh   (env: ROUNDS=3 RECORDS=100000 PARTITIONS=3 TANDEM_PORT=29392
#        APACHE_PORT=39392 TARGETS="tandem apache", see each_round in servers.sh)
# As run-share-compare.sh: Apache 4.4 (KRaft, servers.sh) needs only the state topic's replication factor and min
# ISR at 1 for one broker, and both get the same offsets and state topic partition counts.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-share-cost"
rounds=${ROUNDS:-3}
records=${RECORDS:-100000}
partitions=${PARTITIONS:-3}
export SERVER_SETTINGS="share.coordinator.state.topic.replication.factor=1 share.coordinator.state.topic.min.isr=1 offsets.topic.num.partitions=3 share.coordinator.state.topic.num.partitions=3"
source "$root/bench/kafka/servers.sh"
log="$work/share-cost.lines"
: > "$log"

if [ ! -f "$work/probe/ShareCostProbe.class" ] || [ "$root/bench/kafka/ShareCostProbe.java" -nt "$work/probe/ShareCostProbe.class" ]; then
  mkdir -p "$work/probe"
  javac -nowarn -cp "$work/lib/*" -d "$work/probe" "$root/bench/kafka/ShareCostProbe.java"
fi

# The process's CPU so far (all its threads, user + system), in ms.
cpu_ms() { awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / tck) }' "/proc/$1/stat"; }

run() { # name port round
  local name=$1 port=$2 round=$3 bs="127.0.0.1:$2" out c0 c1 load
  sleep 2
  fill_topic "$bs" share-bench "$partitions" "$records" > /dev/null
  load=$(cut -d' ' -f1 /proc/loadavg)
  c0=$(cpu_ms "$server_pid")
  out=$(java -Xmx512m -cp "$work/probe:$work/lib/*" ShareCostProbe "$bs" share-bench "$records" "share-bench-$round" \
    2>>"$work/$name.probe.err" | grep '^records=' || echo "records=0 (failed, see $work/$name.probe.err)")
  c1=$(cpu_ms "$server_pid")
  echo "$name round $round: $out serverCpuMs=$((c1 - c0)) serverCpuMsPer1000Records=$(( (c1 - c0) * 1000 / records )) load1=$load" \
    | tee -a "$log"
  stop_server
}

echo "share-group cost, RECORDS=$records x 1 KB, PARTITIONS=$partitions, ROUNDS=$rounds, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
each_round run "${TANDEM_PORT:-29392}" "${APACHE_PORT:-39392}"

echo
echo "=== medians (tandem / apache) ==="
/usr/bin/python3 - "$log" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name = line.split()[0]
    rows.setdefault(name, []).append({k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)})
for key in ("joinMs", "consumeMs", "totalMs", "serverCpuMs", "serverCpuMsPer1000Records"):
    med = {n: statistics.median(r[key] for r in rs if key in r) for n, rs in rows.items() if any(key in r for r in rs)}
    t, a = med.get("tandem"), med.get("apache")
    ratio = " (tandem/apache %.2fx)" % (t / a) if t is not None and a else ""
    print("%-26s tandem %s, apache %s%s" % (key, t, a, ratio))
PY
