# Shared by the single-node Kafka benchmarks (run-kafka.sh, run-kafka-consume.sh, ...); sourced, not run.
# Needs $root (the repository) and $work (a scratch directory under bench/target) set by the caller.
# Fetches Apache Kafka 4.4 from Maven Central once, rebuilds Tandem when a source is newer than its jar, and starts
# either server on a port with a fresh data dir, or with "keep" on the data it left ($server_pid, $startup_ms set;
# stop_server stops it, kill_server kills it with SIGKILL). SERVER_SETTINGS (space-separated key=value, Kafka's
# server.properties keys) adds settings to both servers alike, e.g. the librdkafka suite's num.partitions=4.
# Also the steps several scripts share: fill_topic (a topic of 1 KB records), logged_consume (a ConsumerPerformance
# whose requests are logged with their times) and each_round (rounds over TARGETS, servers alternating; needs $rounds).

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

# Creates topic $2 (partitions $3) on the server at $1 and fills it with $4 records of 1 KB (ProducerPerformance,
# acks=all); prints ProducerPerformance's summary line.
fill_topic() { # bootstrap topic partitions records
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$1" --create --topic "$2" --partitions "$3" \
    --replication-factor 1 >/dev/null
  tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$1" --topic "$2" --num-records "$4" \
    --record-size 1024 --throughput -1 --producer-props acks=all | tail -1
}

# One ConsumerPerformance run (Kafka 4.4's, default settings, a new group) over $3 records of topic `bench`, its
# NetworkClient logging every request and answer with the time (slf4j-simple at DEBUG for that one logger) into $1:
# the client's own view of each request, for the scripts that time a consume request by request. slf4j-simple is
# fetched into $work/client-log once.
logged_consume() { # log bootstrap records
  [ -d "$work/client-log" ] || mvn -q -B dependency:copy -Dartifact=org.slf4j:slf4j-simple:1.7.36 \
    -DoutputDirectory="$work/client-log"
  java -Xmx512m -cp "$work/lib/*:$work/client-log/*" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient=debug \
    -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
    org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$2" --topic bench --num-records "$3" \
    --timeout 60000 > "$1" 2>&1 || true
}

# Runs "$1 NAME PORT ROUND" on a fresh server for each of $rounds rounds and each target of TARGETS (default
# "tandem apache"; jar:<path> is an earlier Tandem build, see start_tandem_jar), the order of odd rounds reversed in
# even ones so that neither server always runs first. Tandem listens on port $2, Apache on $3 (default $2 + 10000).
# Each Tandem round's server log is kept as $work/NAME-ROUND-server.log. The function stops the server it was given.
each_round() { # function tandem_port [apache_port]
  local fn=$1 tandem_port=$2 apache_port=${3:-$(($2 + 10000))} order targets target r name
  order=(${TARGETS:-tandem apache})
  for ((r = 1; r <= rounds; r++)); do
    if ((r % 2 == 0)); then targets=$(printf '%s\n' "${order[@]}" | tac); else targets="${order[*]}"; fi
    for target in $targets; do
      echo "== $target, round $r, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S)"
      name=$target
      case $target in
        tandem) : > "$work/tandem.log"; start_tandem "$tandem_port" ;;
        apache) start_apache "$apache_port" ;;
        jar:*) name=$(basename "$(dirname "${target#jar:}")")
               : > "$work/tandem.log"; start_tandem_jar "${target#jar:}" "$tandem_port" ;;
        *) echo "unknown target $target (tandem, apache or jar:<path>)" >&2; exit 2 ;;
      esac
      if [ "$target" = apache ]; then
        "$fn" apache "$apache_port" "$r"
      else
        "$fn" "$name" "$tandem_port" "$r"
        cp "$work/tandem.log" "$work/$name-$r-server.log" 2>/dev/null || true
      fi
    done
  done
}
