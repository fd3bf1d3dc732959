# Shared by the single-node Kafka benchmarks (run-kafka.sh, run-kafka-consume.sh, ...); sourced, not run.
# Needs $root (the repository) and $work (a scratch directory under bench/target) set by the caller.
# Fetches Apache Kafka 4.4 from Maven Central once, rebuilds Tandem when a source is newer than its jar, and starts
# either server on a port with a fresh data dir, or with "keep" on the data it left ($server_pid, $startup_ms set;
# stop_server stops it, kill_server kills it with SIGKILL). SERVER_SETTINGS (space-separated key=value, Kafka's
# server.properties keys) adds settings to both servers alike, e.g. the librdkafka suite's num.partitions=4.

mkdir -p "$work"
if [ ! -d "$work/lib" ]; then
  echo "fetching Apache Kafka from Maven Central..."
  mvn -q -B -f "$root/bench/kafka/apache-kafka.pom.xml" dependency:copy-dependencies -DoutputDirectory="$work/lib"
fi
# Rebuild Tandem when the jar is missing or older than any source, so the run measures the code in this tree.
jar="$root/server/target/tandem-server.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root"/*/src/main "$root"/pom.xml "$root"/*/pom.xml -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -q -B -DskipTests package)
fi

# grep exits 1 when a tool prints nothing else, which pipefail would turn into an abort of the whole run.
tool() { java -Xmx512m -cp "$work/lib/*" "$@" 2>&1 | { grep -v '^SLF4J' || true; }; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

server_pid=""
stop_server() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi; server_pid=""; }
kill_server() { if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi; server_pid=""; }
trap stop_server EXIT

start_apache() { # port [keep]
  local dir="$work/apache-data" port=$1
  if [ "${2:-}" != keep ]; then
  rm -rf "$dir"; mkdir -p "$dir"
  cat > "$work/apache.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((port + 1))
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  local setting
  for setting in ${SERVER_SETTINGS:-}; do echo "$setting" >> "$work/apache.properties"; done
  tool kafka.tools.StorageTool format -t "$(tool kafka.tools.StorageTool random-uuid | tail -1)" -c "$work/apache.properties" >/dev/null
  fi
  local t0; t0=$(date +%s%N)
  # The JVM flags of Apache's kafka-server-start.sh; APACHE_JAVA_OPTS adds to them (e.g. a JFR recording).
  java -Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    ${APACHE_JAVA_OPTS:-} -cp "$work/lib/*" kafka.Kafka "$work/apache.properties" >> "$work/apache.log" 2>&1 &
  server_pid=$!
  startup_ms=$(/usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$t0")
}

start_tandem() { # port [keep]
  local dir="$work/tandem-data" port=$1
  [ "${2:-}" = keep ] || rm -rf "$dir"
  local t0 setting extra=(); t0=$(date +%s%N)
  for setting in ${SERVER_SETTINGS:-}; do extra+=(--set "$setting"); done
  # The same group.initial.rebalance.delay.ms as the Apache config above, or ConsumerPerformance's join waits 3 s.
  # The launcher's own JVM flags unless TANDEM_JAVA_OPTS is set (e.g. to add a JFR recording).
  # Added to the launcher's flags instead of replacing them (the JVM adds JAVA_TOOL_OPTIONS to its command line):
  # TANDEM_ADD_OPTS (e.g. a -D switch of the server's), and with GC_LOG=<file> a log of Tandem's collections there
  # with UTC times (gc_pauses_between reads them).
  local add_opts="${TANDEM_ADD_OPTS:-}${GC_LOG:+ -Xlog:gc:file=$GC_LOG:utctime}" env_opts=()
  [ -z "${add_opts// /}" ] || env_opts=(env "JAVA_TOOL_OPTIONS=$add_opts")
  "${env_opts[@]}" "$root/tandem" start --data-dir "$dir" --kafka-port "$port" --zk-port $((port + 1)) \
    --set group.initial.rebalance.delay.ms=0 "${extra[@]}" >> "$work/tandem.log" 2>&1 &
  server_pid=$!
  startup_ms=$(/usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$t0")
}

# The collections GC_LOG recorded between two UTC times (utc_now's format): pauses, their sum, the longest, full ones.
utc_now() { date -u +%Y-%m-%dT%H:%M:%S.%3N; }
gc_pauses_between() { # from to
  [ -n "${GC_LOG:-}" ] && [ -f "$GC_LOG" ] || return 0
  awk -v from="$1" -v to="$2" '/Pause/ { t = substr($1, 2, 23); if (t < from || t > to) next
      n++; ms = $NF + 0; total += ms; if (ms > max) max = ms; if (/Pause Full/) full++ }
    END { printf "%d GC pauses, %.1f ms in all, longest %.1f ms, %d full", n, total, max, full }' "$GC_LOG"
}

# An earlier build, to compare before and after a change in the same run (TARGETS=jar:<path> in the scripts that
# take it): the jar with the lib/ next to it when there is one (the storage and wire modules are jars of their own,
# built with it), else this tree's server/target/lib, and the launcher's JVM flags for a node with both roles
# (TANDEM_JAVA_OPTS overrides them, as for start_tandem); no CDS archive. Same settings as start_tandem.
start_tandem_jar() { # jar port
  local dir="$work/tandem-data" port=$2 lib="$root/server/target/lib"
  [ -d "$(dirname "$1")/lib" ] && lib="$(dirname "$1")/lib"
  rm -rf "$dir"
  local t0 setting extra=(); t0=$(date +%s%N)
  for setting in ${SERVER_SETTINGS:-}; do extra+=(--set "$setting"); done
  java -XX:+ExitOnOutOfMemoryError ${TANDEM_JAVA_OPTS:--Xms16m -Xmx512m -XX:+UseSerialGC -XX:FreqInlineSize=100 -XX:MaxInlineLevel=6} \
    -Dio.netty.jfr.enabled=false -cp "$1:$lib/*" io.tandem.server.Main start --data-dir "$dir" \
    --kafka-port "$port" --zk-port $((port + 1)) --set group.initial.rebalance.delay.ms=0 "${extra[@]}" \
    >> "$work/tandem.log" 2>&1 &
  server_pid=$!
  startup_ms=$(/usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$port" "$t0")
}
