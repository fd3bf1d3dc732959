#!/usr/bin/env bash
# Launcher JVM flags A/B for a Kafka node: per round, per variant (rotating order, bench/ab-rounds.sh), starts
# `./tandem start` with TANDEM_JAVA_OPTS="<base> <variant>" on a fresh data dir, creates topic `bench` (3 partitions)
# and runs WINDOWS back-to-back ProducerPerformance runs of RECORDS records (1 KB, acks=all, as fast as it goes, as
# run-kafka.sh) from the cold start on. Per window it prints the server's CPU per record (user + system of all its
# threads, /proc/<pid>/task/*/stat), the JIT compiler threads' share of it, the request handlers' and event loops',
# and the records/s; the summary gives per variant and window the medians over the rounds [min - max].
# Window 1 is what run-kafka.sh's max-rate figure meets (a server just started); the last ones show settled code.
# Usage: bench/kafka/produce-flags-ab.sh ROUNDS "VARIANT_A" "VARIANT_B" ...   (env: RECORDS=200000 WINDOWS=4,
#        BASE = the launcher's default flags "-Xms16m -Xmx512m -XX:+UseSerialGC"; "" = the base alone)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench"
source "$root/bench/kafka/servers.sh"
source "$root/bench/ab-rounds.sh"
ab_parse variant "$@"
base=${BASE:--Xms16m -Xmx512m -XX:+UseSerialGC}
records=${RECORDS:-200000}
windows=${WINDOWS:-4}

# Thread CPU of a process in ms, grouped by thread name with digits folded, as "group=ms;group=ms".
thread_cpu() {
  /usr/bin/python3 - "$1" <<'PY'
import os, re, sys, collections
pid, tck, groups = sys.argv[1], os.sysconf("SC_CLK_TCK"), collections.Counter()
for t in os.listdir("/proc/%s/task" % pid):
    try:
        s = open("/proc/%s/task/%s/stat" % (pid, t)).read()
    except OSError:
        continue
    f = s[s.rindex(")") + 2:].split()
    groups[re.sub(r"\d+", "#", s[s.index("(") + 1:s.rindex(")")])] += (int(f[11]) + int(f[12])) * 1000 // tck
print(";".join("%s=%d" % kv for kv in groups.items()))
PY
}
# us per record of the whole process and of the JIT, handler and event-loop threads between two thread_cpu lines.
cpu_delta() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sys
def parse(s): return {k: int(v) for k, v in (kv.split("=", 1) for kv in s.split(";") if kv)}
a, b, n = parse(sys.argv[1]), parse(sys.argv[2]), int(sys.argv[3])
d = {k: b[k] - a.get(k, 0) for k in b}
us = lambda ms: ms * 1000.0 / n
part = lambda prefix: us(sum(v for k, v in d.items() if k.startswith(prefix)))
print("server %.2f us/record, JIT %.2f, handlers %.2f, event loops %.2f" % (us(sum(d.values())),
      part("C# CompilerThre"), part("kafka-request-h"), part("multiThreadIoEv")))
PY
}

run_variant() {
  local t0 t1 out w
  TANDEM_JAVA_OPTS="$base $1" start_tandem 29092
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:29092 --create --topic bench --partitions 3 \
    --replication-factor 1 >/dev/null
  for w in $(seq 1 "$windows"); do
    t0=$(thread_cpu "$server_pid")
    out=$(tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server 127.0.0.1:29092 --topic bench \
      --num-records "$records" --record-size 1024 --throughput -1 --producer-props acks=all | tail -1)
    t1=$(thread_cpu "$server_pid")
    echo "window $w: $(cpu_delta "$t0" "$t1" "$records"), $(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$out") records/s, load $(cut -d' ' -f1 /proc/loadavg)"
  done
  stop_server
}

ab_rounds run_variant "^window "
/usr/bin/python3 - "$out" "$n" "$rounds" "${entries[@]}" <<'PY'
import re, statistics, sys
out, n, rounds, variants = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
print("\n(medians over %d rounds [min - max]: server CPU us/record, of which JIT; records/s)" % rounds)
print("| variant | window | server CPU us/record | JIT | records/s |\n|---|---:|---:|---:|---:|")
for v in range(n):
    rows = {}
    for r in range(1, rounds + 1):
        for line in open("%s/%d.%d.log" % (out, v, r)):
            m = re.match(r"window (\d+): server ([\d.]+) us/record, JIT ([\d.]+).*, ([\d.]+) records/s", line)
            if m:
                rows.setdefault(int(m.group(1)), []).append((float(m.group(2)), float(m.group(3)), float(m.group(4))))
    for w in sorted(rows):
        cpu, jit, rate = ([x[i] for x in rows[w]] for i in range(3))
        print("| %s | %d | %.2f [%.2f - %.2f] | %.2f | %.0f [%.0f - %.0f] |" % (variants[v] or "(base)", w,
              statistics.median(cpu), min(cpu), max(cpu), statistics.median(jit), statistics.median(rate), min(rate), max(rate)))
PY
rm -rf "$out"
