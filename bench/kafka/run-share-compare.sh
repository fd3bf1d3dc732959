#!/usr/bin/env bash
# Share groups' offsets and state, Tandem beside Apache Kafka 4.4 (issue 10 part 3): not a benchmark and not in the
# test suite, a side-by-side of what each server answers to the same share-group scenario (ShareCompareProbe.java:
# produce RECORDS to each of 2 partitions, one KafkaShareConsumer pass with accept/release/reject, the group's and
# member's epochs before it leaves, then Admin.listShareGroupOffsets and describeShareGroups), then Kafka's own
# kafka-share-groups.sh (ShareGroupCommand) --describe --offsets and --state, and kafka-features.sh describe
# (share.version: supported and finalized levels).
# Usage: bench/kafka/run-share-compare.sh   (env: RECORDS=20, TANDEM_PORT=29092, APACHE_PORT=39092)
# Prints both sides' answers, then the lines that differ. Nothing here is asserted.
#
# Apache Kafka 4.4 needs no switch for share groups: a 4.4 storage format finalizes share.version=2 (4.2+ formats
# enable it; 4.0's group.share.enable / unstable.api.versions.enable are gone). A one-broker cluster only
# needs the state topic's replication factor and min ISR at 1 (defaults 3 and 2), as compat-tests' ApacheKafkaTarget.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/bench/target/kafka-share-compare"
records=${RECORDS:-20}
export SERVER_SETTINGS="share.coordinator.state.topic.replication.factor=1 share.coordinator.state.topic.min.isr=1 offsets.topic.num.partitions=3 share.coordinator.state.topic.num.partitions=3"
source "$root/bench/kafka/servers.sh"

if [ ! -f "$work/probe/ShareCompareProbe.class" ] || [ "$root/bench/kafka/ShareCompareProbe.java" -nt "$work/probe/ShareCompareProbe.class" ]; then
  mkdir -p "$work/probe"
  javac -nowarn -cp "$work/lib/*" -d "$work/probe" "$root/bench/kafka/ShareCompareProbe.java"
fi

# Hosts, ports and broker ids differ by nature (the probe prints no topic or member ids): masked, and runs of
# spaces (column widths) squeezed. The raw output stays in $work/NAME.raw.txt.
normalize() {
  sed -E -e 's/127\.0\.0\.1:[0-9]+[[:space:]]+\([0-9]+\)/<host:port> (<id>)/g' -e 's/127\.0\.0\.1:[0-9]+/<host:port>/g' \
    -e 's#/127\.0\.0\.1#<host>#g' -e 's/[[:space:]]+/ /g' -e 's/ $//'
}

scenario() { # name port
  local name=$1 port=$2 bs="127.0.0.1:$2" out="$work/$1.txt"
  sleep 2
  {
    echo "## probe"
    java -Xmx512m -cp "$work/probe:$work/lib/*" ShareCompareProbe "$bs" "$records" 2>"$work/$name.probe.err" \
      | { grep -v '^SLF4J' || true; }
    echo "## kafka-share-groups.sh --describe --offsets"
    tool org.apache.kafka.tools.consumer.group.ShareGroupCommand --bootstrap-server "$bs" --describe --offsets \
      --group share-compare
    echo "## kafka-share-groups.sh --describe --offsets --verbose"
    tool org.apache.kafka.tools.consumer.group.ShareGroupCommand --bootstrap-server "$bs" --describe --offsets \
      --verbose --group share-compare
    echo "## kafka-share-groups.sh --describe --state"
    tool org.apache.kafka.tools.consumer.group.ShareGroupCommand --bootstrap-server "$bs" --describe --state \
      --group share-compare
    echo "## kafka-share-groups.sh --list"
    tool org.apache.kafka.tools.consumer.group.ShareGroupCommand --bootstrap-server "$bs" --list
    echo "## kafka-features.sh describe (share.version)"
    tool org.apache.kafka.tools.FeatureCommand --bootstrap-server "$bs" describe | grep -i share || echo "(none)"
  } | tee "$work/$name.raw.txt" | normalize > "$out"
  echo "  $name: $(grep -c . "$out") lines ($(tail -1 "$work/$name.probe.err" 2>/dev/null))"
  stop_server
}

echo "share-group compare, RECORDS=$records, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
# Other runs on the same machine may hold the default ports: TANDEM_PORT / APACHE_PORT move them (each uses the
# next port too).
tandem_port=${TANDEM_PORT:-29092}
apache_port=${APACHE_PORT:-39092}
start_tandem "$tandem_port"; scenario tandem "$tandem_port"
start_apache "$apache_port"; scenario apache "$apache_port"

echo
echo "=== side by side (tandem | apache) ==="
diff -y -W 200 "$work/tandem.txt" "$work/apache.txt" || true
echo
echo "=== differences (< tandem, > apache) ==="
if diff "$work/tandem.txt" "$work/apache.txt"; then echo "(none)"; fi
