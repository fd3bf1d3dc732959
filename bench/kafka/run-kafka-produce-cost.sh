#!/usr/bin/env bash
# What the server spends per produced record, measured where a shared, noisy machine still gives stable figures:
# the server process's CPU time (user + system, from /proc/<pid>/stat) and its context switches over a fixed number
# of records, and, in a second run under a JFR recording, the bytes its threads allocated (jdk.ThreadAllocationStatistics)
# and its hot methods (bench/jfr_top.py). Throughput is printed too, with the load average, but only as a side figure.
# Usage: bench/kafka/run-kafka-produce-cost.sh   (env: RECORDS=300000 WARMUP=300000 ROUNDS=3 TARGETS="tandem"
#        JFR=0 skips the JFR run; PROFILE=1 keeps the JFR recordings under bench/target/kafka-bench/produce-cost-*.jfr; JFR_SETTINGS=<file.jfc>
#        instead of `profile`, e.g. bench/zookeeper/profile-1ms.jfc to sample Java code every 1 ms instead of 10-20 ms;
#        SYSCALLS=1 counts the server's syscalls per round with `perf stat` and prints them per 100 records: write
#        (with NIO, mostly an event loop's wake-up through its eventfd), writev (answers), read, epoll_wait, futex
#        (handler threads' wake-ups) and pwrite64 (appends), figures that the machine's load does not bend);
#        THREADS=1 splits each round's server CPU by thread (names without their numbers: request handlers, event
#        loops, the JIT's compiler threads, the collector's VM Thread...), which says how much is Java request code)
# Load: ProducerPerformance, topic of 3 partitions, 1 KB records, acks=all, as fast as it goes (as run-kafka.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench"
records=${RECORDS:-300000}
warmup=${WARMUP:-300000}
rounds=${ROUNDS:-3}
source "$root/bench/kafka/servers.sh"
ticks=$(getconf CLK_TCK)
syscalls=syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,syscalls:sys_enter_pwrite64

cpu_ms() { awk -v t="$ticks" '{printf "%d", ($14 + $15) * 1000 / t}' "/proc/$1/stat"; }
sys_ms() { awk -v t="$ticks" '{printf "%d", $15 * 1000 / t}' "/proc/$1/stat"; }
# Per thread name (trailing numbers stripped, so a pool counts once): CPU ms (user + system) so far, one "name ms" a line.
thread_cpu() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s\t%s\n' "$(sed -E 's/[-#]?[0-9]+$//' "$t/comm" 2>/dev/null)" "$(awk -v k="$ticks" '{sub(/^.*\) /, ""); printf "%d", ($12 + $13) * 1000 / k}' "$t/stat" 2>/dev/null)"
  done | awk -F'\t' '$2 != "" {ms[$1] += $2} END {for (n in ms) printf "%s\t%d\n", n, ms[n]}'
}
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2} END {printf "%d %d", v, n}'; }
produce() { # port records
  tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "127.0.0.1:$1" --topic bench --num-records "$2" \
    --record-size 1024 --throughput -1 --producer-props acks=all | tail -1
}

measure() { # name port
  local name=$1 port=$2 out c0 c1 s0 s1 jfr
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" --create --topic bench --partitions 3 \
    --replication-factor 1 >/dev/null
  produce "$port" "$warmup" >/dev/null # the JIT's warm-up, not measured
  for round in $(seq 1 "$rounds"); do
    local sperf=""
    if [ "${SYSCALLS:-0}" = 1 ]; then
      perf stat -x, -e "$syscalls" -p "$server_pid" -o "$work/pc-server.perf" & sperf=$!
      sleep 0.5
    fi
    [ "${THREADS:-0}" = 1 ] && thread_cpu "$server_pid" > "$work/pc-threads0"
    c0=$(cpu_ms "$server_pid"); k0=$(sys_ms "$server_pid"); read -r s0v s0n <<<"$(switches "$server_pid")"
    out=$(produce "$port" "$records")
    if [ "${THREADS:-0}" = 1 ]; then
      thread_cpu "$server_pid" > "$work/pc-threads1"
      echo "    $name round $round CPU by thread, us/record: $(awk -F'\t' -v rec="$records" 'NR == FNR {a[$1] = $2; next}
          {d = $2 - a[$1]; if (d > 0) printf "%.2f %s\n", d * 1000 / rec, $1}' "$work/pc-threads0" "$work/pc-threads1" \
        | sort -rn | head -8 | awk '{v = $1; $1 = ""; printf "%s%s %s", (NR > 1 ? ", " : ""), substr($0, 2), v}')"
    fi
    c1=$(cpu_ms "$server_pid"); k1=$(sys_ms "$server_pid"); read -r s1v s1n <<<"$(switches "$server_pid")"
    if [ -n "$sperf" ]; then
      kill -INT "$sperf"; wait "$sperf" || true
      echo "    $name round $round syscalls per 100 records: $(awk -F, -v rec="$records" '/sys_enter_/ {sub(/.*sys_enter_/, "", $3); printf "%s%s %.2f", (n++ ? ", " : ""), $3, $1 * 100 / rec}' "$work/pc-server.perf")"
    fi
    awk -v n="$name" -v r="$round" -v c=$((c1 - c0)) -v k=$((k1 - k0)) -v rec="$records" -v sv=$((s1v - s0v)) -v sn=$((s1n - s0n)) \
        -v rate="$(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$out")" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
      'BEGIN { printf "  %s round %d: server CPU %d ms (%d%% system) = %.2f us/record, context switches %.3f voluntary + %.3f involuntary per record, %s records/s, load %s\n", n, r, c, (c > 0 ? 100 * k / c : 0), c * 1000 / rec, sv / rec, sn / rec, rate, load }'
  done
  if [ "${JFR:-1}" = 1 ]; then
    jfr="$work/produce-cost-$name.jfr"
    rm -f "$jfr"
    jcmd "$server_pid" JFR.start name=cost settings="${JFR_SETTINGS:-profile}" >/dev/null
    c0=$(cpu_ms "$server_pid")
    out=$(produce "$port" "$records")
    c1=$(cpu_ms "$server_pid")
    jcmd "$server_pid" JFR.stop name=cost filename="$jfr" >/dev/null
    echo "  $name under JFR: server CPU $((c1 - c0)) ms; $(/usr/bin/python3 "$root/bench/jfr_alloc.py" "$jfr" "$records")"
    if [ "${PROFILE:-0}" = 1 ]; then /usr/bin/python3 "$root/bench/jfr_top.py" "$jfr" 30; else rm -f "$jfr"; fi
  fi
  stop_server
}

# TARGETS: tandem (this tree), apache, or jar:<path> (a Tandem jar built earlier, e.g. from the base commit).
for target in ${TARGETS:-tandem}; do
  case $target in
    tandem) echo "== Tandem"; start_tandem 29092; measure tandem 29092 ;;
    apache) echo "== Apache Kafka"; start_apache 39092; measure apache 39092 ;;
    jar:*) name=$(basename "${target#jar:}" .jar); echo "== Tandem $name"; start_tandem_jar "${target#jar:}" 29092
           measure "$name" 29092 ;;
  esac
done
