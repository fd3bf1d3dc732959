#!/usr/bin/env bash
# The cost of TLS on the Kafka port, Tandem against Apache Kafka 4.4 in alternating rounds on the same machine, driven
# by Apache Kafka's own ProducerPerformance and ConsumerPerformance over three listeners of each server: PLAINTEXT,
# SSL and SASL_SSL (PLAIN). Both servers read the very same listener and TLS keys (one properties file).
# Usage: bench/kafka/run-kafka-tls.sh
#   env: ROUNDS=3 RECORDS=200000 (per listener and run) WARMUP=20000 (records produced and consumed once over each
#        listener after a start, not counted: JIT, __consumer_offsets, the first TLS sessions)
#        TARGETS="tandem apache" (round 1's order; every other round reverses it, and the listeners' order too)
#        PROFILE=1 records a JFR (settings=profile) of each server during its SSL produce and SSL consume of each
#        round, into bench/target/kafka-tls-bench/<target>-ssl-{produce,consume}-<round>.jfr
# Per listener: a 3-partition topic, RECORDS records of 1 KB produced with acks=all, then read from the start by a
# new consumer group (default consumer settings on both sides). The CA, the server's PKCS12 key store and the trust
# store are made with keytool in bench/target at every run (never committed).
# Prints each run with the load average and the server's CPU time (user + system) during it; then per server and
# listener the medians (and ranges) of records/s, MB/s, the produce p99 and the server CPU per record; then the
# ratios Tandem/Apache per listener and TLS/plaintext per server. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-tls-bench"
rounds=${ROUNDS:-3}
records=${RECORDS:-200000}
warmup=${WARMUP:-20000}
listeners=(PLAINTEXT SSL SASL_SSL)
source "$root/bench/kafka/servers.sh"

# --- Certificates: a CA, the server's key signed by it (SAN 127.0.0.1 and localhost), a trust store with the CA.
pass=bench-secret
certs="$work/certs"
rm -rf "$certs"; mkdir -p "$certs"
kt() { keytool "$@" -storepass "$pass" >/dev/null 2>&1; } # keytool on a store of this run, quietly
kt -genkeypair -keystore "$certs/ca.p12" -storetype PKCS12 -alias ca -keyalg RSA -keysize 2048 -validity 30 \
  -dname CN=tandem-bench-ca -ext bc:c
kt -exportcert -keystore "$certs/ca.p12" -alias ca -rfc -file "$certs/ca.pem"
kt -genkeypair -keystore "$certs/server.p12" -storetype PKCS12 -alias server -keyalg RSA -keysize 2048 -validity 30 \
  -dname CN=localhost
kt -certreq -keystore "$certs/server.p12" -alias server -file "$certs/server.csr"
kt -gencert -keystore "$certs/ca.p12" -alias ca -infile "$certs/server.csr" -rfc -validity 30 \
  -ext SAN=ip:127.0.0.1,dns:localhost -outfile "$certs/server.pem"
kt -importcert -keystore "$certs/server.p12" -alias ca -file "$certs/ca.pem" -noprompt
kt -importcert -keystore "$certs/server.p12" -alias server -file "$certs/server.pem"
kt -importcert -keystore "$certs/truststore.p12" -storetype PKCS12 -alias ca -file "$certs/ca.pem" -noprompt

# --- Client settings per listener (ProducerPerformance --producer.config, ConsumerPerformance --consumer.config).
for listener in "${listeners[@]}"; do
  {
    echo "security.protocol=$listener"
    if [ "$listener" != PLAINTEXT ]; then
      echo "ssl.truststore.type=PKCS12"
      echo "ssl.truststore.location=$certs/truststore.p12"
      echo "ssl.truststore.password=$pass"
    fi
    if [ "$listener" = SASL_SSL ]; then
      echo "sasl.mechanism=PLAIN"
      echo "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"bench\" password=\"$pass\";"
    fi
  } > "$work/client-$listener.properties"
done

# The listener and security keys both servers read. Ports: base (PLAINTEXT), +1 (SSL), +2 (SASL_SSL).
security_properties() { # base-port
  local base=$1
  cat <<PROPS
listeners=PLAINTEXT://127.0.0.1:$base,SSL://127.0.0.1:$((base + 1)),SASL_SSL://127.0.0.1:$((base + 2))
advertised.listeners=PLAINTEXT://127.0.0.1:$base,SSL://127.0.0.1:$((base + 1)),SASL_SSL://127.0.0.1:$((base + 2))
inter.broker.listener.name=PLAINTEXT
ssl.keystore.type=PKCS12
ssl.keystore.location=$certs/server.p12
ssl.keystore.password=$pass
ssl.key.password=$pass
ssl.truststore.type=PKCS12
ssl.truststore.location=$certs/truststore.p12
ssl.truststore.password=$pass
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$pass" user_admin="$pass" user_bench="$pass";
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
}

# Starts a server in the background, its output appended to <name>.log, and waits until its PLAINTEXT port answers.
launch() { # base-port name command...
  local base=$1 name=$2 t0
  shift 2
  t0=$(date +%s%N)
  "$@" >> "$work/$name.log" 2>&1 &
  server_pid=$!
  startup_ms=$(/usr/bin/python3 "$root/bench/kafka/probe.py" 127.0.0.1 "$base" "$t0")
}

start_apache_tls() { # base-port
  local dir="$work/apache-data" base=$1
  rm -rf "$dir"; mkdir -p "$dir"
  {
    security_properties "$base"
    echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
    echo "process.roles=broker,controller"
    echo "node.id=1"
    echo "controller.quorum.voters=1@127.0.0.1:$((base + 3))"
    echo "controller.listener.names=CONTROLLER"
    echo "log.dirs=$dir"
  } > "$work/apache.properties"
  # KRaft's controller listener is one more listener of Apache's (Tandem's controller is its ZooKeeper port).
  sed -i -E "s|^listeners=(.*)$|listeners=\1,CONTROLLER://127.0.0.1:$((base + 3))|" "$work/apache.properties"
  tool kafka.tools.StorageTool format -t "$(tool kafka.tools.StorageTool random-uuid | tail -1)" -c "$work/apache.properties" >/dev/null
  # The JVM flags of Apache's kafka-server-start.sh, as servers.sh.
  launch "$base" apache java -Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 ${APACHE_JAVA_OPTS:-} -cp "$work/lib/*" kafka.Kafka "$work/apache.properties"
}

start_tandem_tls() { # base-port
  local dir="$work/tandem-data" base=$1
  rm -rf "$dir"
  security_properties "$base" > "$work/tandem.properties"
  echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL" >> "$work/tandem.properties"
  # The launcher's own JVM flags unless TANDEM_JAVA_OPTS is set, as servers.sh.
  launch "$base" tandem "$root/tandem" start --data-dir "$dir" --zk-port $((base + 3)) -c "$work/tandem.properties"
}

tick_ms=$((1000 / $(getconf CLK_TCK)))
# CPU time (user + system) the server process has used so far, in ms: fields 14 and 15 of /proc/<pid>/stat.
cpu_ms() { awk -v t="$tick_ms" '{print ($14 + $15) * t}' "/proc/$1/stat"; }
port_of() { # base listener
  case $2 in PLAINTEXT) echo "$1" ;; SSL) echo $(($1 + 1)) ;; SASL_SSL) echo $(($1 + 2)) ;; esac
}
produce() { # port listener topic count
  tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "127.0.0.1:$1" --topic "$3" --num-records "$4" \
    --record-size 1024 --throughput -1 --producer-props acks=all --producer.config "$work/client-$2.properties" | tail -1
}
consume() { # port listener topic count
  tool org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "127.0.0.1:$1" --topic "$3" --num-records "$4" \
    --timeout 60000 --consumer.config "$work/client-$2.properties" | tail -1
}
jfr() { # name phase round start|stop
  [ "${PROFILE:-0}" = 1 ] || return 0
  if [ "$4" = start ]; then
    jcmd "$server_pid" JFR.start name=tls settings=profile filename="$work/$1-ssl-$2-$3.jfr" >/dev/null
  else
    jcmd "$server_pid" JFR.stop name=tls >/dev/null
  fi
}

declare -A produce_rate produce_mb produce_p99 produce_cpu consume_rate consume_mb consume_cpu loads
# Runs one produce or consume of RECORDS over a listener; prints it with the load average and the server's CPU time
# (and its JFR recording for SSL when PROFILE=1), and leaves the tool's summary line in $out and the CPU in $cpu.
measure() { # name round phase listener port
  local name=$1 round=$2 phase=$3 listener=$4 port=$5 load cpu0
  load=$(awk '{print $1}' /proc/loadavg)
  [ "$phase" = produce ] && loads[$name]+="$load "
  [ "$listener" = SSL ] && jfr "$name" "$phase" "$round" start
  cpu0=$(cpu_ms "$server_pid")
  out=$("$phase" "$port" "$listener" "bench-$listener" "$records")
  cpu=$(($(cpu_ms "$server_pid") - cpu0))
  [ "$listener" = SSL ] && jfr "$name" "$phase" "$round" stop
  echo "  $name round $round $listener $phase (load $load, server CPU ${cpu} ms): $out"
}
per_record() { awk -v c="$1" -v n="$records" 'BEGIN {printf "%.2f", c * 1000 / n}'; } # CPU ms -> us per record

run_round() { # name base round order...
  local name=$1 base=$2 round=$3 listener port topic out cpu
  shift 3
  sleep 2
  for listener in "${listeners[@]}"; do
    port=$(port_of "$base" "$listener")
    for topic in "warm-$listener" "bench-$listener"; do
      tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$base" --create --topic "$topic" \
        --partitions 3 --replication-factor 1 >/dev/null
    done
    produce "$port" "$listener" "warm-$listener" "$warmup" >/dev/null
    consume "$port" "$listener" "warm-$listener" "$warmup" >/dev/null
  done
  for listener in "$@"; do
    port=$(port_of "$base" "$listener")
    measure "$name" "$round" produce "$listener" "$port"
    # "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, p50 ms 50th, p95, p99, p99.9."
    produce_rate[$name.$listener]+="$(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$out") "
    produce_mb[$name.$listener]+="$(sed -E 's/.*records\/sec \(([0-9.]+) MB\/sec.*/\1/' <<<"$out") "
    produce_p99[$name.$listener]+="$(sed -E 's/.* ([0-9.]+) ms 99th.*/\1/' <<<"$out") "
    produce_cpu[$name.$listener]+="$(per_record "$cpu") "
    measure "$name" "$round" consume "$listener" "$port"
    # Columns: start, end, MB, MB/s, records, records/s, rebalance ms, fetch ms, fetch MB/s, fetch records/s.
    consume_rate[$name.$listener]+="$(awk -F', *' '{print $6}' <<<"$out") "
    consume_mb[$name.$listener]+="$(awk -F', *' '{print $4}' <<<"$out") "
    consume_cpu[$name.$listener]+="$(per_record "$cpu") "
  done
  stop_server
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
order=(${TARGETS:-tandem apache})
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2 == 0)); then
    targets=$(printf '%s\n' "${order[@]}" | tac); run_order=$(printf '%s\n' "${listeners[@]}" | tac)
  else
    targets="${order[*]}"; run_order="${listeners[*]}"
  fi
  for target in $targets; do
    case $target in
      tandem) echo "== Tandem, round $r"; start_tandem_tls 29092; run_round tandem 29092 "$r" $run_order ;;
      apache) echo "== Apache Kafka, round $r"; start_apache_tls 39092; run_round apache 39092 "$r" $run_order ;;
    esac
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# median of the words on stdin, "?" when none
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR]=$1} END {if (NR == 0) {print "?"; exit}
  printf "%.2f\n", NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
range() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR]=$1} END {if (NR) printf "%.0f-%.0f", v[1], v[NR]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 > 0 && a ~ /^[0-9.]+$/) printf "%.2f", a/b; else print "?" }'; }

declare -A med
row() { # server listener phase rate-median rate-series MB/s p99 CPU
  printf '%-7s %-9s %-8s %22s %9s %10s %14s\n' "$1" "$2" "$3" "$4 ($(range <<<"$5"))" "$6" "$7" "$8"
}
printf '\n%-7s %-9s %-8s %22s %9s %10s %14s\n' server listener phase "records/s median (range)" "MB/s" "p99 ms" \
  "CPU us/record"
for name in tandem apache; do
  for listener in "${listeners[@]}"; do
    k=$name.$listener
    [ -n "${produce_rate[$k]:-}" ] || continue
    for m in produce_rate produce_mb produce_p99 produce_cpu consume_rate consume_mb consume_cpu; do
      declare -n series=$m
      med[$k.$m]=$(median <<<"${series[$k]}")
      unset -n series
    done
    row "$name" "$listener" produce "${med[$k.produce_rate]}" "${produce_rate[$k]}" "${med[$k.produce_mb]}" \
      "${med[$k.produce_p99]}" "${med[$k.produce_cpu]}"
    row "$name" "$listener" consume "${med[$k.consume_rate]}" "${consume_rate[$k]}" "${med[$k.consume_mb]}" - \
      "${med[$k.consume_cpu]}"
  done
  [ -n "${loads[$name]:-}" ] && echo "$name load averages: ${loads[$name]}"
done

# The medians of one server and listener over another's: records/s, p99 and CPU per record of both phases.
ratios() { # label key base-key
  [ -n "${med[$2.produce_rate]:-}" ] && [ -n "${med[$3.produce_rate]:-}" ] || return 0
  printf '  %-17s produce records/s %s, p99 %s, CPU/record %s; consume records/s %s, CPU/record %s\n' "$1" \
    "$(ratio "${med[$2.produce_rate]}" "${med[$3.produce_rate]}")" \
    "$(ratio "${med[$2.produce_p99]}" "${med[$3.produce_p99]}")" \
    "$(ratio "${med[$2.produce_cpu]}" "${med[$3.produce_cpu]}")" \
    "$(ratio "${med[$2.consume_rate]}" "${med[$3.consume_rate]}")" \
    "$(ratio "${med[$2.consume_cpu]}" "${med[$3.consume_cpu]}")"
}
echo
echo "ratio Tandem/Apache (records/s > 1 and p99, CPU/record < 1 favour Tandem):"
for listener in "${listeners[@]}"; do ratios "$listener" "tandem.$listener" "apache.$listener"; done
echo "TLS cost per server, listener/PLAINTEXT (records/s < 1 and CPU/record > 1 are the cost of TLS):"
for name in tandem apache; do
  for listener in SSL SASL_SSL; do ratios "$name $listener" "$name.$listener" "$name.PLAINTEXT"; done
done
