#!/usr/bin/env bash
# Start-up side by side: from spawning the servers to the first ZooKeeper session and the first Kafka Metadata answer.
#  - tandem: `./tandem start` (both roles, one process; the launcher's CDS archive is recorded by a first run that is
#    not counted);
#  - apache: Apache ZooKeeper (ZooKeeperServerMain) and an Apache Kafka 3.9.1 broker in ZooKeeper mode spawned at the
#    same moment, as `zookeeper-server-start.sh & kafka-server-start.sh` would (jars fetched from Maven Central now,
#    the JVM flags of Apache's scripts).
# Probes start polling at spawn: ZooKeeper with a raw ConnectRequest (a new session), Kafka with a raw Metadata v0
# request (bench/kafka/probe.py). Also printed: the servers' CPU time (user+sys) when the Kafka answer came, which is
# less sensitive to a loaded machine than wall time. With tandem among the targets, one more run (not counted) logs
# the JVM's class loading and prints what was loaded by the first Kafka answer: classes in all, those mapped from the
# launcher's class-data archive, picocli's, and the method-handle classes spun at run time (no archive holds them).
# Usage: bench/run-startup.sh [ROUNDS]   (env: TARGETS="tandem apache", PORT=39300)
# Prints each round and the medians. Nothing here is asserted.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
targets=${TARGETS:-tandem apache}
port=${PORT:-39300}
work="$root/bench/target/startup-bench"
mkdir -p "$work"
if [ ! -d "$work/lib" ] && [[ " $targets " == *" apache "* ]]; then
  echo "fetching Apache Kafka 3.9.1 and its ZooKeeper from Maven Central..."
  mvn -q -B -f "$root/bench/kafka/apache-kafka-3.9.pom.xml" dependency:copy-dependencies -DoutputDirectory="$work/lib"
fi
jar="$root/server/target/tandem-server.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root"/*/src/main "$root"/pom.xml "$root"/*/pom.xml -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -q -B -DskipTests -pl server -am package)
fi
cat > "$work/zkprobe.py" <<'PY'
import socket, struct, sys, time
host, port, spawned_ns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
body = struct.pack(">iqiqi", 0, 0, 30000, 0, 16) + b"\0" * 16   # ConnectRequest, new session
request = struct.pack(">i", len(body)) + body
deadline = time.time() + 120
while time.time() < deadline:
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            s.sendall(request)
            answer = s.recv(64)
            if len(answer) >= 20 and struct.unpack(">q", answer[12:20])[0] != 0:   # a session id: established
                print("%.0f" % ((time.time_ns() - spawned_ns) / 1e6)); sys.exit(0)
    except OSError:
        pass
    time.sleep(0.002)
print("none"); sys.exit(1)
PY

pids=()
# Last spawned first, each waited for: Apache's broker shuts down in a controlled way on SIGTERM and needs its
# ZooKeeper for that (killed together, the broker waited for it for minutes).
stop_all() { local i; for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
               [ -n "${pids[i]}" ] && { kill "${pids[i]}" 2>/dev/null; wait "${pids[i]}" 2>/dev/null; }
             done; pids=(); }
trap stop_all EXIT
cpu_ms() { local total=0; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat") * 10)); done; echo $total; }

spawn() { # target data-dir
  local target=$1 dir=$2 zk=$((port + 1))
  rm -rf "$dir"; mkdir -p "$dir"
  case $target in
    tandem)
      "$root/tandem" start --data-dir "$dir" --kafka-port "$port" --zk-port "$zk" > "$dir.log" 2>&1 &
      pids=($!) ;;
    apache)
      printf 'broker.id=0\nlisteners=PLAINTEXT://127.0.0.1:%s\nlog.dirs=%s/kafka-logs\nzookeeper.connect=127.0.0.1:%s\noffsets.topic.replication.factor=1\n' \
        "$port" "$dir" "$zk" > "$dir/server.properties"
      java -Xmx512M -Xms512M -Dzookeeper.admin.enableServer=false -cp "$work/lib/*" \
        org.apache.zookeeper.server.ZooKeeperServerMain "$zk" "$dir/zookeeper" > "$dir.zk.log" 2>&1 &
      pids=($!)
      java -Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -cp "$work/lib/*" kafka.Kafka "$dir/server.properties" > "$dir.kafka.log" 2>&1 &
      pids+=($!) ;;
  esac
}

declare -A results
run_once() { # target -> "zk_ms kafka_ms cpu_ms"
  local target=$1 t0 zk_out kafka_out
  t0=$(date +%s%N)
  spawn "$target" "$work/$target-data"
  /usr/bin/python3 "$work/zkprobe.py" 127.0.0.1 $((port + 1)) "$t0" > "$work/zk.out" &
  local zk_probe=$!
  kafka_out=$(/usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$t0" 2>/dev/null || echo none)
  local cpu; cpu=$(cpu_ms "${pids[@]}")
  wait $zk_probe; zk_out=$(cat "$work/zk.out")
  stop_all
  printf "%s %.0f %s" "$zk_out" "$kafka_out" "$cpu"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END { if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "?" }'; }

if [[ " $targets " == *" tandem "* ]]; then
  run_once tandem > /dev/null   # records the launcher's class-data archive; not counted
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  for target in $targets; do
    read -r zk kafka cpu <<<"$(run_once "$target")"
    echo "round $round $target: first ZooKeeper session ${zk} ms, first Kafka Metadata answer ${kafka} ms, cpu ${cpu} ms"
    results[$target.zk]+=" $zk"; results[$target.kafka]+=" $kafka"; results[$target.cpu]+=" $cpu"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ " $targets " == *" tandem "* ]]; then
  rm -rf "$work/classes-data"; mkdir -p "$work/classes-data"
  t0=$(date +%s%N)
  TANDEM_JAVA_OPTS="-Xms16m -Xmx512m -XX:+UseSerialGC -Xlog:class+load=info:file=$work/classes.log" \
    "$root/tandem" start --data-dir "$work/classes-data" --kafka-port "$port" --zk-port $((port + 1)) \
    > "$work/classes-data.log" 2>&1 &
  pids=($!)
  /usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$t0" > /dev/null 2>&1
  cp "$work/classes.log" "$work/classes-at-answer.log"   # the log as it was at the first answer
  stop_all
  log="$work/classes-at-answer.log"
  echo "tandem classes loaded by the first Kafka answer: $(grep -c ' source: ' "$log") in all," \
    "$(grep -c 'source: shared objects file' "$log") from class-data archives," \
    "$(grep -c ' picocli\.' "$log") picocli," \
    "$(grep -c 'LambdaForm\$[A-Z]*/.* source: __JVM_LookupDefineClass__' "$log") method-handle classes spun"
fi
printf "%-8s %18s %18s %12s\n" server "zk session ms" "kafka metadata ms" "cpu ms"
for target in $targets; do
  printf "%-8s %18s %18s %12s\n" "$target" "$(median <<<"${results[$target.zk]}")" \
    "$(median <<<"${results[$target.kafka]}")" "$(median <<<"${results[$target.cpu]}")"
done
