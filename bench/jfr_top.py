"""Summarises a JFR recording without a GUI (JDK 17's `jfr` has no `view`): the hottest methods by self samples, threads waiting in native code (socket, fsync),
the hottest Tandem/Kafka frames by inclusive samples, samples per thread, and allocation weight by top frame.
Usage: python3 bench/jfr_top.py <recording.jfr> [rows=25] [package prefix for inclusive=io.tandem]"""
import collections, json, subprocess, sys

path = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 25
prefix = sys.argv[3] if len(sys.argv) > 3 else "io.tandem"


def events(kind):
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "64", "--events", kind, path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["recording"]["events"]


def frame_name(frame):
    m = frame["method"]
    return (m["type"]["name"] + "." + m["name"]).replace("/", ".")


def show(title, counter, total):
    print(f"\n== {title} (of {total})")
    for name, n in counter.most_common(rows):
        print(f"{n:8d} {100.0 * n / max(total, 1):5.1f}%  {name}")


samples = events("jdk.ExecutionSample")
native = collections.Counter()
native_samples = events("jdk.NativeMethodSample")
for e in native_samples:
    frames = (e["values"].get("stackTrace") or {}).get("frames") or []
    thread = (e["values"].get("sampledThread") or {}).get("javaName") or "?"
    top = frame_name(frames[0]) if frames else "?"
    caller = next((frame_name(f) for f in frames if frame_name(f).startswith(prefix)), "")
    native[f"{thread.rstrip('0123456789-')}: {top} <- {caller}"] += 1
show("threads in native code (jdk.NativeMethodSample): thread: native frame <- first " + prefix + " frame",
     native, len(native_samples))
self_count, incl, threads = collections.Counter(), collections.Counter(), collections.Counter()
for e in samples:
    frames = (e["values"].get("stackTrace") or {}).get("frames") or []
    thread = (e["values"].get("sampledThread") or {}).get("javaName") or "?"
    threads[thread.rstrip("0123456789-")] += 1
    if frames:
        self_count[frame_name(frames[0])] += 1
    seen = set()
    for f in frames:
        n = frame_name(f)
        if n.startswith(prefix) and n not in seen:
            seen.add(n)
            incl[n] += 1
show("self samples", self_count, len(samples))
show("inclusive samples, " + prefix, incl, len(samples))
show("samples by thread (numbers stripped)", threads, len(samples))

alloc = collections.Counter()
total = 0
for e in events("jdk.ObjectAllocationSample"):
    w = e["values"].get("weight", 0)
    frames = (e["values"].get("stackTrace") or {}).get("frames") or []
    key = (e["values"].get("objectClass") or {}).get("name", "?")
    first = next((frame_name(f) for f in frames if frame_name(f).startswith(prefix)), frames and frame_name(frames[0]))
    alloc[f"{key} <- {first}"] += w
    total += w
print(f"\n== allocation weight MB by class <- first {prefix} frame (total {total / 1e6:.0f} MB)")
for name, w in alloc.most_common(rows):
    print(f"{w / 1e6:10.1f}  {name}")
