#!/usr/bin/env bash
# Two (or more) builds of Tandem's ZooKeeper role side by side, in one run: ZkBench against Tandem alone, once per
# build per round, builds in rotating order (round r starts with build r), and per build and phase the median server
# CPU us/op and ops/s over the rounds with their ranges. A build is a directory holding a `tandem` launcher and its
# server/target (tandem-server.jar and lib/), e.g. a copy taken before a change:
#   mkdir -p /some/dir/server/target && cp tandem /some/dir && cp -r server/target/{tandem-server.jar,lib} /some/dir/server/target
# Usage: bench/zk-build-ab.sh ROUNDS DIR_A DIR_B ... [-- ZkBench options, e.g. --ops 60000 --warmup 20000]
# Each build runs with the launcher's own JVM flags (TANDEM_JAVA_OPTS is passed through if set). Run bench/run-zk.sh
# once first (it writes the bench class path). Prints the load average before every run: on a shared machine compare
# CPU per operation, and read a difference smaller than the rounds' spread as no difference.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/bench/target/zk-bench"
# shellcheck source=ab-rounds.sh
source "$root/bench/ab-rounds.sh"
ab_parse build "$@"
cp="$root/bench/target/test-classes:$root/bench/target/classes:$(cat "$work/classpath.txt")"
run_build() {
  java -Xmx1g -cp "$cp" io.tandem.bench.zookeeper.ZkBench --root "$1" --work "$work" --targets tandem \
    "${bench_args[@]}"
}
ab_rounds run_build "^(create|set|get|exists|delete) |server CPU"
/usr/bin/python3 - "$out" "$n" "$rounds" "${entries[@]}" <<'PY'
import re, statistics, sys
out, n, rounds, builds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
phases = ["create", "set", "get", "exists", "delete"]
print("\n(medians over %d rounds [min - max])" % rounds)
print("| build | phase | server CPU us/op | commit thread us/op | event loops us/op | ops/s |\n|---|---|---:|---:|---:|---:|")
for b in range(n):
    rows = {p: [] for p in phases}
    for r in range(1, rounds + 1):
        lines = open("%s/%d.%d.log" % (out, b, r)).read().splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(create|set|get|exists|delete)\s+(\d+) ops/s", line)
            if m and i + 1 < len(lines):
                cpu = re.search(r"server CPU ([\d.]+) us/op", lines[i + 1])
                commit = re.search(r"zk-commit ([\d.]+)", lines[i + 1])
                loops = re.search(r"multiThreadIoEv ([\d.]+)", lines[i + 1])
                rows[m.group(1)].append((float(cpu.group(1)) if cpu else float("nan"),
                                         float(commit.group(1)) if commit else float("nan"),
                                         float(loops.group(1)) if loops else float("nan"), int(m.group(2))))
    for p in phases:
        if not rows[p]:
            continue
        cols = list(zip(*rows[p]))
        cells = ["%.1f [%.1f - %.1f]" % (statistics.median(c), min(c), max(c)) for c in cols[:3]]
        ops = cols[3]
        print("| %s | %s | %s | %d [%d - %d] |" % (builds[b], p, " | ".join(cells), statistics.median(ops),
                                                   min(ops), max(ops)))
PY
rm -rf "$out"
