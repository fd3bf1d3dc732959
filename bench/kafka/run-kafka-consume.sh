#!/usr/bin/env bash
# Kafka consume throughput, Tandem against Apache Kafka 4.4 in alternating rounds on the same machine, driven by
# Apache Kafka's own ProducerPerformance (to fill the topic) and ConsumerPerformance (the figure).
# Usage: bench/kafka/run-kafka-consume.sh
#   env: ROUNDS=3 RECORDS=300000 CONSUMES=3 (ConsumerPerformance runs per server start, each a new group; the
#        first one also has the broker create __consumer_offsets, 50 partitions, so it is reported on its own)
#        TARGETS="tandem apache" (round 1's order; every other round reverses it)
#        PROFILE=1 records a JFR (settings=profile) of each server during its second consume of each round, into
#        bench/target/kafka-bench/<target>-consume-<round>.jfr
# Topic `bench`: 3 partitions, replication factor 1, RECORDS records of 1 KB produced with acks=all, then read from
# the start by ConsumerPerformance (default consumer settings on both sides). Prints each run, then per server (over
# the consumes after the first of each start) the
# median and range of records/s over the whole run (group join included) and of the fetch-only rate, the load
# average at each consume, the server's CPU time (user + system) during each consume, and the Tandem/Apache ratio of
# the medians. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-bench"
rounds=${ROUNDS:-3}
records=${RECORDS:-300000}
consumes=${CONSUMES:-3}
profile_at=$((consumes > 1 ? 2 : 1))
source "$root/bench/kafka/servers.sh"

declare -A runs fetch_runs loads cpu_runs first_runs
tick_ms=$((1000 / $(getconf CLK_TCK)))
# CPU time (user + system) the server process has used so far, in ms: fields 14 and 15 of /proc/<pid>/stat.
cpu_ms() { awk -v t="$tick_ms" '{print ($14 + $15) * t}' "/proc/$1/stat"; }
consume_round() { # name port round
  local name=$1 port=$2 round=$3 bs="127.0.0.1:$2" out i
  sleep 2
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic bench --partitions 3 --replication-factor 1 >/dev/null
  out=$(tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic bench --num-records "$records" \
        --record-size 1024 --throughput -1 --producer-props acks=all | tail -1)
  echo "  $name round $round produce: $out"
  for ((i = 1; i <= consumes; i++)); do
    local load; load=$(awk '{print $1}' /proc/loadavg)
    if [ "${PROFILE:-0}" = 1 ] && [ "$i" = "$profile_at" ]; then
      jcmd "$server_pid" JFR.start name=consume settings=profile filename="$work/$name-consume-$round.jfr" >/dev/null
    fi
    local cpu0; cpu0=$(cpu_ms "$server_pid")
    out=$(tool org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$bs" --topic bench \
          --num-records "$records" --timeout 60000 | tail -1)
    local cpu=$(($(cpu_ms "$server_pid") - cpu0))
    if [ "${PROFILE:-0}" = 1 ] && [ "$i" = "$profile_at" ]; then jcmd "$server_pid" JFR.stop name=consume >/dev/null; fi
    echo "  $name round $round consume $i (load $load, server CPU ${cpu} ms): $out"
    # Columns: start, end, MB, MB/s, records, records/s, rebalance ms, fetch ms, fetch MB/s, fetch records/s.
    if [ "$i" = 1 ] && [ "$consumes" -gt 1 ]; then first_runs[$name]+="$(awk -F', *' '{print $6}' <<<"$out") "; continue; fi
    runs[$name]+="$(awk -F', *' '{print $6}' <<<"$out") "
    fetch_runs[$name]+="$(awk -F', *' '{print $10}' <<<"$out") "
    loads[$name]+="$load "
    cpu_runs[$name]+="$cpu "
  done
  stop_server
}

order=(${TARGETS:-tandem apache})
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2 == 0)); then targets=$(printf '%s\n' "${order[@]}" | tac); else targets="${order[*]}"; fi
  for target in $targets; do
    case $target in
      tandem) echo "== Tandem, round $r"; start_tandem 29092; consume_round tandem 29092 "$r" ;;
      apache) echo "== Apache Kafka, round $r"; start_apache 39092; consume_round apache 39092 "$r" ;;
    esac
  done
done

stats() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR]=$1} END {if (NR == 0) {print "? ? ?"; exit}
  m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.0f %.0f %.0f\n", m, v[1], v[NR]}'; }
printf '\n%-8s %-5s %24s %24s %22s  %s\n' server runs "records/s median (range)" "fetch-only median (range)" \
  "server CPU ms median" "load averages"
declare -A median
for name in tandem apache; do
  [ -n "${runs[$name]:-}" ] || continue
  read -r m lo hi <<<"$(stats <<<"${runs[$name]}")"
  read -r fm flo fhi <<<"$(stats <<<"${fetch_runs[$name]}")"
  read -r cm clo chi <<<"$(stats <<<"${cpu_runs[$name]}")"
  median[$name]=$m; median[$name.fetch]=$fm
  printf '%-8s %-5s %24s %24s %22s  %s\n' "$name" "$(wc -w <<<"${runs[$name]}")" "$m ($lo-$hi)" "$fm ($flo-$fhi)" \
    "$cm ($clo-$chi)" "${loads[$name]}"
done
for name in tandem apache; do
  [ -n "${first_runs[$name]:-}" ] || continue
  read -r m lo hi <<<"$(stats <<<"${first_runs[$name]}")"
  printf '%-8s first consumes (offsets topic created): records/s median %s (%s-%s)\n' "$name" "$m" "$lo" "$hi"
done
if [ -n "${median[tandem]:-}" ] && [ -n "${median[apache]:-}" ]; then
  awk -v t="${median[tandem]}" -v a="${median[apache]}" -v ft="${median[tandem.fetch]}" -v fa="${median[apache.fetch]}" \
    'BEGIN { printf "ratio Tandem/Apache: records/s %.2f, fetch-only %.2f\n", t/a, ft/fa }'
fi
