#!/usr/bin/env bash
# Launcher JVM flags A/B at a fixed rate: per round, per variant (rotating order, bench/ab-rounds.sh), one
# run-kafka-fixed-rate-stages.sh (a fresh `./tandem start`, ProducerPerformance at RATE records/s, 1 KB, acks=all, 3
# partitions) with TANDEM_JAVA_OPTS="<base> <variant>". Prints per run the client's whole-run line, the server's GC
# pauses and RSS after the run; the summary gives per variant the medians over the rounds [min - max] of the p99, the
# p99.9, the GC pause total and the RSS. Nothing here is asserted.
# Usage: bench/kafka/fixed-rate-flags-ab.sh ROUNDS "VARIANT_A" "VARIANT_B" ...   ("" = the base alone)
#   env: BASE (default: the launcher's flags for a Kafka node), and run-kafka-fixed-rate-stages.sh's (FIXED_SECONDS...)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/bench/ab-rounds.sh"
ab_parse variant "$@"
base=${BASE:--Xms16m -Xmx512m -XX:+UseSerialGC -XX:FreqInlineSize=100 -XX:MaxInlineLevel=6}

run_variant() {
  TANDEM_JAVA_OPTS="$base $1" "$root/bench/kafka/run-kafka-fixed-rate-stages.sh"
}
ab_rounds run_variant "records sent|server GC|server RSS"
echo "each run's output: $out"

/usr/bin/python3 - "$out" "${entries[@]}" <<'PY'
import glob, re, statistics, sys
out, variants = sys.argv[1], sys.argv[2:]
def fmt(xs):
    return "%s [%s-%s]" % (statistics.median(xs), min(xs), max(xs)) if xs else "-"
for i, v in enumerate(variants):
    p99, p999, gc, rss = [], [], [], []
    for f in sorted(glob.glob(f"{out}/{i}.*.log")):
        t = open(f).read()
        m = re.search(r"records sent.*?(\d+) ms 99th, (\d+) ms 99\.9th", t)
        if m: p99.append(int(m.group(1))); p999.append(int(m.group(2)))
        m = re.search(r"server GC: (\d+) pauses, ([\d.]+) ms", t)
        if m: gc.append(float(m.group(2)))
        m = re.search(r"server RSS after the run: ([\d.]+)", t)
        if m: rss.append(float(m.group(1)))
    print(f"variant '{v}': p99 ms {fmt(p99)}; p99.9 ms {fmt(p999)}; GC pauses ms {fmt(gc)}; RSS MiB {fmt(rss)}")
PY
