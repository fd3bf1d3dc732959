#!/usr/bin/env bash
# Launcher JVM flags A/B for the ZooKeeper role: runs ZkBench against Tandem alone once per variant per round, variants
# in rotating order (round r starts with variant r), each with TANDEM_JAVA_OPTS="<base> <variant>", and prints per
# variant and phase the median server CPU us/op (and its JIT compiler threads' share) and ops/s over the rounds.
# Usage: bench/zk-flags-ab.sh ROUNDS "VARIANT_A" "VARIANT_B" ... [-- ZkBench options, e.g. --ops 100000 --warmup 10000]
# A variant is a string of JVM flags ("" = the launcher's defaults alone). Run bench/run-zk.sh once first (it builds
# the server and writes the bench class path). BASE overrides the base flags (default: the launcher's).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/bench/target/zk-bench"
# shellcheck source=ab-rounds.sh
source "$root/bench/ab-rounds.sh"
ab_parse variant "$@"
base=${BASE:--Xms16m -Xmx512m -XX:+UseSerialGC}
cp="$root/bench/target/test-classes:$root/bench/target/classes:$(cat "$work/classpath.txt")"
run_variant() {
  TANDEM_JAVA_OPTS="$base $1" java -Xmx1g -cp "$cp" io.tandem.bench.zookeeper.ZkBench \
    --root "$root" --work "$work" --targets tandem "${bench_args[@]}"
}
ab_rounds run_variant "^(create|set|get|exists|delete) |server CPU"
/usr/bin/python3 - "$out" "$n" "$rounds" "${entries[@]}" <<'PY'
import re, statistics, sys, glob
out, n, rounds, variants = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
phases = ["create", "set", "get", "exists", "delete"]
print("\n(medians over %d rounds [min - max]; server CPU us/op, its JIT share, ops/s)" % rounds)
print("| variant | phase | server CPU | JIT | ops/s |\n|---|---|---:|---:|---:|")
for v in range(n):
    rows = {p: [] for p in phases}
    for r in range(1, rounds + 1):
        lines = open("%s/%d.%d.log" % (out, v, r)).read().splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(create|set|get|exists|delete)\s+(\d+) ops/s", line)
            if m and i + 1 < len(lines):
                cpu = re.search(r"server CPU ([\d.]+) us/op", lines[i + 1])
                jit = re.search(r"C# CompilerThre ([\d.]+)", lines[i + 1])
                rows[m.group(1)].append((float(cpu.group(1)) if cpu else float("nan"),
                                         float(jit.group(1)) if jit else 0.0, int(m.group(2))))
    total = [0.0, 0.0]
    for p in phases:
        if not rows[p]:
            continue
        cpu = [x[0] for x in rows[p]]; jit = [x[1] for x in rows[p]]; ops = [x[2] for x in rows[p]]
        total[0] += statistics.median(cpu); total[1] += statistics.median(jit)
        print("| %s | %s | %.1f [%.1f - %.1f] | %.1f | %d [%d - %d] |" % (variants[v] or "(defaults)", p,
              statistics.median(cpu), min(cpu), max(cpu), statistics.median(jit), statistics.median(ops), min(ops), max(ops)))
    print("| %s | sum | %.1f | %.1f | |" % (variants[v] or "(defaults)", total[0], total[1]))
PY
rm -rf "$out"
