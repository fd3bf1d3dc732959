"""Bytes a JVM's threads allocated over a JFR recording, exactly (not sampled): each thread's last
jdk.ThreadAllocationStatistics (emitted at a chunk's start and end) minus its first, summed by thread name with
the numbers stripped. Usage: python3 bench/jfr_alloc.py <recording.jfr> [records]: with records, also per record."""
import collections, json, subprocess, sys

path = sys.argv[1]
records = int(sys.argv[2]) if len(sys.argv) > 2 else 0
out = subprocess.run(["jfr", "print", "--json", "--events", "jdk.ThreadAllocationStatistics", path],
                     capture_output=True, text=True, check=True).stdout
first, last, names = {}, {}, {}
for e in json.loads(out)["recording"]["events"]:
    v = e["values"]
    thread = v.get("thread") or {}
    tid = thread.get("javaThreadId") or thread.get("osThreadId")
    names[tid] = (thread.get("javaName") or "?").rstrip("0123456789-")
    first.setdefault(tid, v["allocated"])
    last[tid] = v["allocated"]
by_name = collections.Counter()
for tid in last:
    by_name[names[tid]] += last[tid] - first[tid]
total = sum(by_name.values())
per = f", {total / records:.0f} B/record" if records else ""
top = ", ".join(f"{n} {b / 1e6:.0f} MB" for n, b in by_name.most_common(4) if b > 0)
print(f"allocated {total / 1e6:.0f} MB{per} ({top})")
