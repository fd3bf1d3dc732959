#!/usr/bin/env bash
# Launcher JVM flags A/B for a Kafka node: per round, per variant (rotating order, bench/ab-rounds.sh), starts
# `./tandem start` with TANDEM_JAVA_OPTS="<base> <variant>" on a fresh data dir, creates topic `bench` (3 partitions)
# and runs WINDOWS back-to-back ProducerPerformance runs of RECORDS records (1 KB, acks=all, as fast as it goes, as
# run-kafka.sh) from the cold start on. Per window it prints the server's CPU per record (user + system of all its
# threads, /proc/<pid>/task/*/stat), the JIT compiler threads' share of it, the request handlers' and event loops',
# and the records/s; the summary gives per variant and window the medians over the rounds [min - max].
# Window 1 is what run-kafka.sh's max-rate figure meets (a server just started); the last ones show settled code.
# Per window also the serial collector's CPU (its "VM Thread") per record and, cumulated since the start, its young and
# full collections with their pause time, the young generation's committed size and the server's RSS (jstat, /proc).
# Usage: bench/kafka/produce-flags-ab.sh ROUNDS "VARIANT_A" "VARIANT_B" ...   (env: RECORDS=200000 WINDOWS=4,
#        BASE = the launcher's default flags "-Xms16m -Xmx512m -XX:+UseSerialGC"; "" = the base alone;
#        SETTLE_SECONDS=0: a pause after the start before the topic is created, as run-kafka.sh's 2 s, with the
#        node's CPU by thread from its start to the pause's end printed in ms)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench"
source "$root/bench/kafka/servers.sh"
source "$root/bench/ab-rounds.sh"
ab_parse variant "$@"
base=${BASE:--Xms16m -Xmx512m -XX:+UseSerialGC}
records=${RECORDS:-200000}
windows=${WINDOWS:-4}
settle=${SETTLE_SECONDS:-0}

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
print("server %.2f us/record, JIT %.2f, handlers %.2f, event loops %.2f, GC %.2f" % (us(sum(d.values())),
      part("C# CompilerThre"), part("kafka-request-h"), part("multiThreadIoEv"), part("VM Thread")))
PY
}

# Young and full collections so far (count, pause ms), the young generation's committed size and the RSS, from
# jstat and /proc: the serial collector runs on the "VM Thread" above, so its CPU is the GC column there.
gc_state() { # pid
  jstat -gc "$1" | awk -v rss="$(rss_mb "$1")" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { printf "young GCs %d (%.0f ms), full GCs %d (%.0f ms), young gen %.1f MiB, RSS %s MiB", $c["YGC"], $c["YGCT"] * 1000,
      $c["FGC"], $c["FGCT"] * 1000, ($c["S0C"] + $c["S1C"] + $c["EC"]) / 1024, rss }'
}

run_variant() {
  local t0 t1 out w
  TANDEM_JAVA_OPTS="$base $1" start_tandem 29092
  if [ "$settle" -gt 0 ]; then
    sleep "$settle"
    # What the node spent from its start on before the first window (start-up, a warm-up), as run-kafka.sh's pause.
    echo "start + ${settle} s: $(cpu_delta "" "$(thread_cpu "$server_pid")" 1000 | sed -E 's/ us\/record//') ms"
  fi
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:29092 --create --topic bench --partitions 3 \
    --replication-factor 1 >/dev/null
  for w in $(seq 1 "$windows"); do
    t0=$(thread_cpu "$server_pid")
    out=$(tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server 127.0.0.1:29092 --topic bench \
      --num-records "$records" --record-size 1024 --throughput -1 --producer-props acks=all | tail -1)
    t1=$(thread_cpu "$server_pid")
    echo "window $w: $(cpu_delta "$t0" "$t1" "$records"), $(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$out") records/s, load $(cut -d' ' -f1 /proc/loadavg); $(gc_state "$server_pid")"
  done
  stop_server
}

ab_rounds run_variant "^(window |start )"
/usr/bin/python3 - "$out" "$n" "$rounds" "${entries[@]}" <<'PY'
import re, statistics, sys
out, n, rounds, variants = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
print("\n(medians over %d rounds [min - max]: server CPU us/record, of which JIT and GC; records/s; young collections in"
      " the window and their pause ms; RSS at the window's end)" % rounds)
print("| variant | window | server CPU us/record | JIT | GC | records/s | young GCs | young pause ms | RSS MiB |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
med = lambda v: "%.2f [%.2f - %.2f]" % (statistics.median(v), min(v), max(v))
for v in range(n):
    rows = {}
    for r in range(1, rounds + 1):
        before = (0, 0.0)
        for line in open("%s/%d.%d.log" % (out, v, r)):
            m = re.match(r"window (\d+): server ([\d.]+) us/record, JIT ([\d.]+).*GC ([\d.]+), ([\d.]+) records/s.*"
                         r"young GCs (\d+) \((\d+) ms\).*RSS ([\d.]+) MiB", line)
            if m:
                ygc, ygct = int(m.group(6)), float(m.group(7))
                rows.setdefault(int(m.group(1)), []).append((float(m.group(2)), float(m.group(3)), float(m.group(4)),
                    float(m.group(5)), ygc - before[0], ygct - before[1], float(m.group(8))))
                before = (ygc, ygct)
    for w in sorted(rows):
        col = lambda i: [x[i] for x in rows[w]]
        print("| %s | %d | %s | %.2f | %.2f | %.0f [%.0f - %.0f] | %.0f [%.0f - %.0f] | %.0f [%.0f - %.0f] | %.0f [%.0f - %.0f] |" % (
            variants[v] or "(base)", w, med(col(0)), statistics.median(col(1)), statistics.median(col(2)),
            statistics.median(col(3)), min(col(3)), max(col(3)), statistics.median(col(4)), min(col(4)), max(col(4)),
            statistics.median(col(5)), min(col(5)), max(col(5)), statistics.median(col(6)), min(col(6)), max(col(6))))
PY
rm -rf "$out"
