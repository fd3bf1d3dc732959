#!/usr/bin/env bash
# `tandem perf` side by side with Apache's own load tools, both pointed at the same server in the same run, against
# one Tandem node and one Apache Kafka 4.4 broker plus Apache ZooKeeper 3.9.5 (all fetched from Maven Central now):
#   produce: Kafka's ProducerPerformance and `tandem perf produce`, the same records, size, rate and warm-up; the Java
#            producer set to what `tandem perf` does (one request in flight, no linger, acks=1, not idempotent);
#   consume: Kafka's ConsumerPerformance and `tandem perf consume` over the records both wrote;
#   zk:      `tandem perf zk` and bench/perf/ZkClientLoad.java, the same load through Apache's ZooKeeper client
#            (Apache ships no ZooKeeper load tool in its jars).
# Usage: bench/run-perf-compare.sh   (env: RECORDS=20000 RATE=2000 WARMUP=2000 RECORD_SIZE=100 ZK_OPS=2000
#        ZK_SESSIONS=4 ZK_IN_FLIGHT=16 TARGETS="tandem apache")
# Prints each tool's figures per server and the ratio tandem-perf/Apache-tool: where the tools agree, the ratio is
# near 1 on either server. Nothing here is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/bench/target/perf-bench"
records=${RECORDS:-20000}
rate=${RATE:-2000}
warmup=${WARMUP:-2000}
size=${RECORD_SIZE:-100}
zk_ops=${ZK_OPS:-2000}
zk_sessions=${ZK_SESSIONS:-4}
zk_in_flight=${ZK_IN_FLIGHT:-16}
source "$root/bench/kafka/servers.sh"
if [ ! -d "$work/apache-zk" ]; then
  echo "fetching Apache ZooKeeper 3.9.5 from Maven Central..."
  mvn -q -B -f "$root/bench/zookeeper/apache-zookeeper.pom.xml" dependency:copy-dependencies -DoutputDirectory="$work/apache-zk"
fi
hdr=$(compgen -G "$work/lib/HdrHistogram-*.jar" | head -1)
if [ ! -f "$work/probe/ZkClientLoad.class" ] || [ "$root/bench/perf/ZkClientLoad.java" -nt "$work/probe/ZkClientLoad.class" ]; then
  mkdir -p "$work/probe"
  javac -nowarn -cp "$work/apache-zk/*:$hdr" -d "$work/probe" "$root/bench/perf/ZkClientLoad.java"
fi
out="$work/out"
rm -rf "$out"; mkdir -p "$out"
tandem_cli() { "$root/tandem" "$@" 2>&1 | { grep -v '^SLF4J' || true; }; }

zk_pid=""
stop_zk() { if [ -n "$zk_pid" ]; then kill "$zk_pid" 2>/dev/null || true; wait "$zk_pid" 2>/dev/null || true; fi; zk_pid=""; }
trap 'stop_server; stop_zk' EXIT

kafka_load() { # name port
  local name=$1 bs="127.0.0.1:$2"
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic perf --partitions 1 --replication-factor 1 >/dev/null
  echo "  $name: ProducerPerformance"
  tool org.apache.kafka.tools.ProducerPerformance --topic perf --num-records "$records" --record-size "$size" \
    --throughput "$rate" --warmup-records "$warmup" --producer-props bootstrap.servers="$bs" acks=1 linger.ms=0 \
    max.in.flight.requests.per.connection=1 enable.idempotence=false | tail -1 > "$out/$name.produce.apache"
  echo "  $name: tandem perf produce"
  tandem_cli perf produce --bootstrap-server "$bs" --topic perf --num-records "$records" --record-size "$size" \
    --throughput "$rate" --warmup-records "$warmup" --acks 1 --output json > "$out/$name.produce.tandem"
  echo "  $name: ConsumerPerformance"
  tool org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$bs" --topic perf \
    --num-records $((2 * records)) --timeout 60000 | tail -1 > "$out/$name.consume.apache"
  echo "  $name: tandem perf consume"
  tandem_cli perf consume --bootstrap-server "$bs" --topic perf --messages $((2 * records)) --output json \
    > "$out/$name.consume.tandem"
}

zk_load() { # name port
  local name=$1 server="127.0.0.1:$2"
  echo "  $name: ZkClientLoad (Apache's client)"
  java -Xmx256m -cp "$work/probe:$work/apache-zk/*:$hdr" ZkClientLoad --server "$server" --ops "$zk_ops" \
    --sessions "$zk_sessions" --in-flight "$zk_in_flight" --data-size 100 2>&1 | grep -E '^(create|set|get|delete):' \
    > "$out/$name.zk.apache" || true
  echo "  $name: tandem perf zk"
  tandem_cli perf zk --server "$server" --ops "$zk_ops" --sessions "$zk_sessions" --in-flight "$zk_in_flight" \
    --data-size 100 --output json > "$out/$name.zk.tandem"
}

echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), load:$(uptime | sed 's/.*load average//')"
for target in ${TARGETS:-tandem apache}; do
  case $target in
    tandem)
      echo "== Tandem (Kafka and ZooKeeper in one node)"
      start_tandem 29192; kafka_load tandem 29192; zk_load tandem 29193; stop_server ;;
    apache)
      echo "== Apache Kafka 4.4"
      start_apache 39192; kafka_load apache 39192; stop_server
      echo "== Apache ZooKeeper 3.9.5"
      rm -rf "$work/apache-zk-data"; mkdir -p "$work/apache-zk-data"
      java -Xmx1000m -Dzookeeper.admin.enableServer=false -cp "$work/apache-zk/*" \
        org.apache.zookeeper.server.ZooKeeperServerMain 39193 "$work/apache-zk-data" >> "$work/apache-zk.log" 2>&1 &
      zk_pid=$!
      for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/39193) 2>/dev/null && break; sleep 0.2; done
      zk_load apache 39193; stop_zk ;;
  esac
done
echo "load after:$(uptime | sed 's/.*load average//')"

/usr/bin/python3 - "$out" <<'PY'
import json, os, re, sys
out = sys.argv[1]

def read(name):
    path = os.path.join(out, name)
    return open(path).read() if os.path.exists(path) else ""

def tandem_json(name):
    text = read(name)
    start = text.find("{")
    return json.loads(text[start:]) if start >= 0 else None

def apache_produce(text):
    m = re.search(r"([0-9.]+) records/sec \(([0-9.]+) MB/sec\), ([0-9.]+) ms avg latency, ([0-9.]+) ms max latency, "
                  r"([0-9.]+) ms 50th, ([0-9.]+) ms 95th, ([0-9.]+) ms 99th, ([0-9.]+) ms 99.9th", text)
    if not m: return None
    v = [float(x) for x in m.groups()]
    return {"rec/s": v[0], "avg ms": v[2], "p50 ms": v[4], "p99 ms": v[6], "p99.9 ms": v[7], "max ms": v[3]}

def tandem_produce(j):
    if not j: return None
    l = j["latencyMs"]
    return {"rec/s": j["recordsPerSecond"], "avg ms": l["avg"], "p50 ms": l["p50"], "p99 ms": l["p99"],
            "p99.9 ms": l["p99.9"], "max ms": l["max"]}

def apache_consume(text):
    f = [x.strip() for x in text.strip().split(",")]
    if len(f) < 10: return None
    # start, end, MB, MB/s, nMsg, nMsg/s, rebalance ms, fetch ms, fetch MB/s, fetch nMsg/s
    return {"records": float(f[4]), "rec/s (fetch time)": float(f[9])}

def tandem_consume(j):
    if not j: return None
    return {"records": j["records"], "rec/s (fetch time)": j["recordsPerSecond"]}

def apache_zk(text):
    phases = {}
    for line in text.splitlines():
        m = re.match(r"(\w+): (\d+) ops, ([0-9.]+) ops/sec, latency avg ([0-9.]+) ms, p50 ([0-9.]+) ms, p99 ([0-9.]+) ms", line)
        if m: phases[m.group(1)] = {"ops/s": float(m.group(3)), "avg ms": float(m.group(4)), "p50 ms": float(m.group(5)), "p99 ms": float(m.group(6))}
    return phases

def tandem_zk(j):
    if not j: return {}
    return {p: {"ops/s": f["opsPerSecond"], "avg ms": f["latencyMs"]["avg"], "p50 ms": f["latencyMs"]["p50"],
                "p99 ms": f["latencyMs"]["p99"]} for p, f in j["phases"].items()}

def row(server, what, apache, tandem):
    for key in (apache or tandem or {}):
        a = (apache or {}).get(key); t = (tandem or {}).get(key)
        ratio = "%.2f" % (t / a) if a and t is not None and a > 0 else "?"
        print("%-7s %-16s %-20s %12s %12s %7s" % (server, what, key, a if a is not None else "?", t if t is not None else "?", ratio))

print("\n%-7s %-16s %-20s %12s %12s %7s" % ("server", "load", "figure", "Apache tool", "tandem perf", "ratio"))
for server in ("tandem", "apache"):
    if not read(server + ".produce.tandem") and not read(server + ".zk.tandem"): continue
    row(server, "produce", apache_produce(read(server + ".produce.apache")), tandem_produce(tandem_json(server + ".produce.tandem")))
    row(server, "consume", apache_consume(read(server + ".consume.apache")), tandem_consume(tandem_json(server + ".consume.tandem")))
    a, t = apache_zk(read(server + ".zk.apache")), tandem_zk(tandem_json(server + ".zk.tandem"))
    for phase in ("create", "set", "get", "delete"):
        row(server, "zk " + phase, a.get(phase), t.get(phase))
PY
