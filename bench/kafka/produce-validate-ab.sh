#!/usr/bin/env bash
# Produce before and after a change, beside Apache Kafka 4.4, in the same run: per round, each target of TARGETS on a
# fresh server (bench/kafka/servers.sh's each_round: the order of odd rounds reversed in even ones), topic `bench` of
# 3 partitions, then Kafka's ProducerPerformance (1 KB records, acks=all) twice: RECORDS as fast as it goes, then
# FIXED_SECONDS at RATE records/s. Per run it prints records/s, p99, the server's CPU per record (user + system from
# /proc/<pid>/stat over the run) and the load average; the summary gives per target the median [min - max] of each
# figure and the ratios of the medians to Apache's. Nothing is asserted.
# Usage: TARGETS="jar:<base>/tandem-server.jar jar:<new>/tandem-server.jar apache" bench/kafka/produce-validate-ab.sh
#        env: ROUNDS=3 RECORDS=100000 RATE=5000 FIXED_SECONDS=20 (TARGETS as each_round: tandem = this tree,
#        jar:<path> an earlier build with the lib/ next to it, apache)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench"
rounds=${ROUNDS:-3}
records=${RECORDS:-100000}
rate=${RATE:-5000}
fixed_seconds=${FIXED_SECONDS:-20}
source "$root/bench/kafka/servers.sh"
ticks=$(getconf CLK_TCK)
results="$work/produce-ab.results"
: > "$results"
cpu_ms() { awk -v t="$ticks" '{printf "%d", ($14 + $15) * 1000 / t}' "/proc/$1/stat"; }

# ProducerPerformance's summary: "N records sent, R records/sec (..), A ms avg latency, M ms max latency, p50 ms 50th,
# p95 ms 95th, p99 ms 99th, p999 ms 99.9th."; prints "records/s p99 server-us/record".
produce_run() { # port records throughput
  local c0 c1 out
  c0=$(cpu_ms "$server_pid")
  out=$(tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "127.0.0.1:$1" --topic bench \
        --num-records "$2" --record-size 1024 --throughput "$3" --producer-props acks=all | tail -1)
  c1=$(cpu_ms "$server_pid")
  awk -v c=$((c1 - c0)) -v n="$2" -v line="$out" 'BEGIN {
    r = line; sub(/.*sent, /, "", r); sub(/ records\/sec.*/, "", r)
    p = line; sub(/ ms 99th.*/, "", p); sub(/.* /, "", p)
    printf "%s %s %.2f", r, p, c * 1000 / n }'
}

run() { # name port round
  local name=$1 port=$2 round=$3 max fixed
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" --create --topic bench \
    --partitions 3 --replication-factor 1 >/dev/null
  max=$(produce_run "$port" "$records" -1)
  fixed=$(produce_run "$port" $((rate * fixed_seconds)) "$rate")
  read -r mr mp mc <<<"$max"; read -r fr fp fc <<<"$fixed"
  echo "  $name round $round: max rate $mr records/s p99 $mp ms server $mc us/record; at $rate/s: $fr records/s p99 $fp ms server $fc us/record; load $(cut -d' ' -f1 /proc/loadavg)"
  echo "$name $mr $mp $mc $fp $fc" >> "$results"
  stop_server
}

each_round run 29492
echo
echo "medians [min - max] over $rounds rounds; ratio = median / Apache's median"
/usr/bin/python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault(f[0], []).append([float(x) for x in f[1:]])
names = ["max records/s", "max p99 ms", "max server us/rec", "fixed p99 ms", "fixed server us/rec"]
med = {t: [statistics.median(r[i] for r in v) for i in range(len(names))] for t, v in rows.items()}
print("%-22s" % "target" + "".join("%26s" % n for n in names))
for t, v in rows.items():
    cells = ["%.1f [%.1f-%.1f]" % (med[t][i], min(r[i] for r in v), max(r[i] for r in v)) for i in range(len(names))]
    print("%-22s" % t + "".join("%26s" % c for c in cells))
if "apache" in med:
    for t in med:
        if t != "apache":
            print("%-22s" % (t + "/apache") + "".join("%26s" % ("%.2f" % (med[t][i] / med["apache"][i]) if med["apache"][i] else "?") for i in range(len(names))))
PY
