#!/usr/bin/env bash
# Where a consume's time goes, on both sides of the socket: per ConsumerPerformance run, the server's CPU by thread
# group (names with digits folded: JIT compiler threads, event loops / network threads, request handlers, GC, ...),
# its voluntary context switches, and the consumer JVM's own CPU (user + system) and context switches, next to the
# tool's rebalance and fetch times. Servers alternate per round (bench/ab-rounds.sh's rotation), each start fresh.
# Usage: bench/kafka/run-kafka-consume-cost.sh   (env: ROUNDS=3 RECORDS=300000 CONSUMES=3 TARGETS="tandem apache"
#        (or jar:<path>, a Tandem jar built earlier, with this tree's lib/ and the launcher's JVM flags),
#        JFR=1 records the server during consume 2 of each start into bench/target/kafka-bench/<target>-cc-<round>.jfr,
#        CLIENT_JFR=1 the consumer's JVM likewise (<target>-cc-client-<round>.jfr), SYSCALLS=1 counts the server's and
#        the consumer's sendfile, write(v), read, epoll_wait and futex calls per consume with `perf stat`)
# Topic `bench`: 3 partitions, RECORDS records of 1 KB produced with acks=all, then read from the start by
# ConsumerPerformance (default consumer settings, a new group each time). Consume 1 of a start also has the broker
# create __consumer_offsets and compile its fetch path: it is shown, and summarised apart. Nothing is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench"
rounds=${ROUNDS:-3}
records=${RECORDS:-300000}
consumes=${CONSUMES:-3}
source "$root/bench/kafka/servers.sh"
log="$work/consume-cost.lines"
: > "$log"

# name=ms;... of every thread of a process (user + system), digits folded; "ctx=N" adds voluntary switches.
thread_cpu() {
  /usr/bin/python3 - "$1" <<'PY'
import os, re, sys, collections
pid, tck, groups, ctx = sys.argv[1], os.sysconf("SC_CLK_TCK"), collections.Counter(), 0
for t in os.listdir("/proc/%s/task" % pid):
    try:
        s = open("/proc/%s/task/%s/stat" % (pid, t)).read()
        ctx += int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", open("/proc/%s/task/%s/status" % (pid, t)).read(), re.M).group(1))
    except (OSError, AttributeError):
        continue
    f = s[s.rindex(")") + 2:].split()
    groups[re.sub(r"\d+", "#", s[s.index("(") + 1:s.rindex(")")])] += (int(f[11]) + int(f[12])) * 1000 // tck
groups["ctx"] = ctx
print(";".join("%s=%d" % kv for kv in groups.items()))
PY
}
# "total ms, ctx, top groups" between two thread_cpu lines.
cpu_delta() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
def parse(s): return {k: int(v) for k, v in (kv.split("=", 1) for kv in s.split(";") if kv)}
a, b = parse(sys.argv[1]), parse(sys.argv[2])
d = {k: b[k] - a.get(k, 0) for k in b}
ctx = d.pop("ctx", 0)
top = sorted(((v, k) for k, v in d.items() if v > 0), reverse=True)[:7]
print("server %d ms, %d voluntary switches [%s]" % (sum(d.values()), ctx, ", ".join("%s %d" % (k, v) for v, k in top)))
PY
}

syscalls=syscalls:sys_enter_sendfile64,syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex
# "sendfile64 N, writev N, ..." from a `perf stat -x,` output file.
counts() { awk -F, '/sys_enter_/ {sub(/.*sys_enter_/, "", $3); printf "%s%s %s", (n++ ? ", " : ""), $3, $1}' "$1"; }

consume() { # name port round
  local name=$1 port=$2 round=$3 bs="127.0.0.1:$2" out i t0 t1 load copts
  sleep 2
  out=$(fill_topic "$bs" bench 3 "$records")
  echo "  $name round $round produce: $(sed -E 's/.*sent, ([0-9.]+ records\/sec).*/\1/' <<<"$out")"
  for ((i = 1; i <= consumes; i++)); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    copts=""
    if [ "${JFR:-0}" = 1 ] && [ "$i" = 2 ]; then
      jcmd "$server_pid" JFR.start name=cc settings=profile filename="$work/$name-cc-$round.jfr" >/dev/null
    fi
    if [ "${CLIENT_JFR:-0}" = 1 ] && [ "$i" = 2 ]; then
      copts="-XX:StartFlightRecording=settings=profile,filename=$work/$name-cc-client-$round.jfr"
    fi
    local sperf="" cperf=()
    if [ "${SYSCALLS:-0}" = 1 ]; then
      perf stat -x, -e "$syscalls" -p "$server_pid" -o "$work/cc-server.perf" & sperf=$!
      cperf=(perf stat -x, -e "$syscalls" -o "$work/cc-client.perf" --)
    fi
    t0=$(thread_cpu "$server_pid")
    # The client's CPU and switches: /usr/bin/time around its JVM (%U %S user/system seconds, %w voluntary waits);
    # its busiest thread's (the consumer's own) time on a CPU, waiting for one, and the rest (blocked: the network)
    # from /proc/<pid>/task/*/schedstat, sampled until the JVM exits.
    /usr/bin/time -o "$work/cc-client.time" -f 'CLIENT %U %S %w' "${cperf[@]}" java -Xmx512m $copts -cp "$work/lib/*" \
          org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$bs" --topic bench \
          --num-records "$records" --timeout 60000 > "$work/cc-client.out" 2>&1 &
    local tpid=$! sched
    sched=$(/usr/bin/python3 - "$tpid" <<'PY'
import os, sys, time
def children(pid):
    try:
        return [int(c) for c in open("/proc/%d/task/%d/children" % (pid, pid)).read().split()]
    except OSError:
        return []
pid, java = int(sys.argv[1]), None
while java is None and os.path.exists("/proc/%d" % pid):
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            if os.readlink("/proc/%d/exe" % p).endswith("/java"): java = p; break
        except OSError:
            pass
        todo += children(p)
    time.sleep(0.01)
last, t0 = {}, time.time()
while java is not None:
    try:
        for t in os.listdir("/proc/%d/task" % java):
            run, wait, _ = open("/proc/%d/task/%s/schedstat" % (java, t)).read().split()
            last[t] = (int(run), int(wait))
    except OSError:
        break
    time.sleep(0.05)
life = time.time() - t0
if last:
    run, wait = max(last.values())
    print("consumer thread on CPU %.0f ms, waiting for a CPU %.0f ms, blocked %.0f ms of the JVM's %.0f ms" % (
        run / 1e6, wait / 1e6, life * 1000 - (run + wait) / 1e6, life * 1000))
PY
)
    wait "$tpid" || true
    out="$(grep -v '^SLF4J' "$work/cc-client.out" | tail -1)
$(cat "$work/cc-client.time")"
    t1=$(thread_cpu "$server_pid")
    if [ -n "$sperf" ]; then
      kill -INT "$sperf"; wait "$sperf" || true
      echo "    syscalls: server $(counts "$work/cc-server.perf"); consumer $(counts "$work/cc-client.perf")"
    fi
    if [ "${JFR:-0}" = 1 ] && [ "$i" = 2 ]; then jcmd "$server_pid" JFR.stop name=cc >/dev/null; fi
    local perf client
    perf=$(grep -v '^CLIENT' <<<"$out" | tail -1)
    client=$(grep '^CLIENT' <<<"$out" || echo "CLIENT ? ? ?")
    # ConsumerPerformance's columns: start, end, MB, MB/s, records, records/s, rebalance ms, fetch ms, fetch MB/s,
    # fetch records/s.
    local line
    line=$(awk -F', *' -v c="$client" '{split(c, x, " "); printf "%.0f records/s, rebalance %d ms, fetch %d ms (%.0f records/s); client CPU %.0f ms (%.0f system), %d voluntary switches", $6, $7, $8, $10, (x[2] + x[3]) * 1000, x[3] * 1000, x[4]}' <<<"$perf")
    echo "  $name round $round consume $i (load $load): $line; $(cpu_delta "$t0" "$t1")"
    echo "    $sched"
    echo "$name $i $perf | $client | $(cpu_delta "$t0" "$t1")" >> "$log"
  done
  stop_server
}

each_round consume 29092
echo "end load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"

# Medians [ranges] per server: first consumes apart from later ones.
/usr/bin/python3 - "$log" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, i, rest = line.split(" ", 2)
    perf, client, server = rest.split(" | ")
    f = [x.strip() for x in perf.split(",")]
    c = client.split()
    m = re.match(r"server (\d+) ms, (\d+) voluntary", server)
    try:
        row = (float(f[5]), float(f[6]), float(f[7]), float(f[9]), (float(c[1]) + float(c[2])) * 1000, int(m.group(1)),
               int(m.group(2)))
    except (IndexError, ValueError, AttributeError):
        continue
    rows.setdefault((name, "first" if i == "1" else "later"), []).append(row)
cols = ["records/s", "rebalance ms", "fetch ms", "fetch records/s", "client CPU ms", "server CPU ms", "server vol. switches"]
print("\n| server | consumes | n | " + " | ".join(cols) + " |\n|---|---|---:|" + "---:|" * len(cols))
for (name, kind), rs in sorted(rows.items()):
    cells = []
    for k in range(len(cols)):
        v = [r[k] for r in rs]
        cells.append("%.0f [%.0f-%.0f]" % (statistics.median(v), min(v), max(v)))
    print("| %s | %s | %d | %s |" % (name, kind, len(rs), " | ".join(cells)))
PY
