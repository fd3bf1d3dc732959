#!/usr/bin/env bash
# Transactional produce, side by side (issue 10 part 7): Kafka's own ProducerPerformance with --transactional-id
# against Tandem and Apache Kafka 4.4, same machine, same run, ROUNDS alternating rounds (the order flips each round).
# Usage: bench/kafka/run-kafka-txn.sh   (env: RECORDS=200000 TXN_MS=100 ROUNDS=3 TARGETS="tandem apache")
# 1 KB records, 3 partitions, acks=all (implied by the idempotent transactional producer), a commit every TXN_MS.
# Prints records/s and latency per round, the medians and the ratio Tandem/Apache. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-txn-bench"
records=${RECORDS:-200000}
txn_ms=${TXN_MS:-100}
rounds=${ROUNDS:-3}
source "$root/bench/kafka/servers.sh"

declare -A results
measure() { # name port round
  local name=$1 port=$2 round=$3 bs="127.0.0.1:$2" out
  sleep 2
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic txn-bench --partitions 3 \
    --replication-factor 1 >/dev/null
  out=$(tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic txn-bench \
        --num-records "$records" --record-size 1024 --throughput -1 \
        --transactional-id "txn-bench-$round" --transaction-duration-ms "$txn_ms" | tail -1)
  echo "  round $round $name: $out"
  results[$name]+="$(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$out") "
  stop_server
}

targets=(${TARGETS:-tandem apache})
for round in $(seq 1 "$rounds"); do
  order=("${targets[@]}")
  if (( round % 2 == 0 )); then order=($(printf '%s\n' "${targets[@]}" | tac)); fi
  for target in "${order[@]}"; do
    case $target in
      tandem) start_tandem 29092; measure tandem 29092 "$round" ;;
      apache) start_apache 39092; measure apache 39092 "$round" ;;
    esac
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
t=$(median "${results[tandem]:-}"); a=$(median "${results[apache]:-}")
printf '\n%-28s %12s %12s %8s\n' metric tandem apache ratio
printf '%-28s %12s %12s %8s\n' "txn produce records/s (median)" "${t:-?}" "${a:-?}" \
  "$(awk -v t="$t" -v a="$a" 'BEGIN { if (a+0 > 0 && t+0 > 0) printf "%.2f", t/a; else print "?" }')"
echo "rounds: tandem ${results[tandem]:-} / apache ${results[apache]:-}"
