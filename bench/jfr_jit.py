"""Summarises the JIT's work in a JFR recording: compilations per tier and package (duration, count, bytes inlined),
the longest compilations, methods compiled more than once at tier 4, and deoptimizations with the compiled method
they invalidated. JDK 17's `profile` settings drop compilations under 100 ms, so record with a copy of profile.jfc whose
jdk.Compilation threshold is 0 ms (see docs/profiles/zk-jit.md for the command).
Usage: python3 bench/jfr_jit.py <recording.jfr> [rows=25] [from=HH:MM:SS[.mmm]] [to=HH:MM:SS[.mmm]] (UTC: only
compilations and deoptimizations that started in that span, e.g. one phase of ZkBench)
Durations are wall time of the compiler thread: on a loaded machine they include time spent waiting for a core."""
import collections, json, re, subprocess, sys

path = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 25
start_from = sys.argv[3] if len(sys.argv) > 3 else ""
end_at = sys.argv[4] if len(sys.argv) > 4 else "99"


def events(kind):
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "1", "--events", kind, path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["recording"]["events"]


def seconds(duration):
    m = re.match(r"PT(?:(\d+)H)?(?:(\d+)M)?([\d.]+)S", duration)
    return int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60 + float(m.group(3))


def method_name(m):
    return (m["type"]["name"] + "::" + m["name"]).replace("/", ".")


def group(name):
    for prefix in ("io.tandem.server", "io.tandem", "io.netty.buffer", "io.netty", "java.lang.invoke"):
        if name.startswith(prefix):
            return prefix
    return "other (JDK, libraries)"


compilations = []
for e in events("jdk.Compilation"):
    v = e["values"]
    clock = v["startTime"][11:23]
    if not start_from <= clock < end_at:
        continue
    compilations.append({"id": v["compileId"], "level": v["compileLevel"], "seconds": seconds(v["duration"]),
                         "name": method_name(v["method"]), "inlined": v.get("inlinedBytes") or 0,
                         "code": v.get("codeSize") or 0, "clock": v["startTime"][11:23], "osr": v.get("isOsr")})
by_id = {c["id"]: c for c in compilations}

print(f"== compilations from {start_from or 'the start'} to {end_at if end_at != '99' else 'the end'}: {len(compilations)}")
per_tier = collections.defaultdict(lambda: [0.0, 0, 0])
per_group = collections.defaultdict(lambda: [0.0, 0, 0])
for c in compilations:
    tier = "C2" if c["level"] == 4 else "C1"
    for table, key in ((per_tier, tier), (per_group, (group(c["name"]), tier))):
        table[key][0] += c["seconds"]
        table[key][1] += 1
        table[key][2] += c["inlined"]
for key, (secs, n, inlined) in sorted(per_tier.items()):
    print(f"{key}: {secs:7.2f} s  {n:5d} compilations  {inlined:7d} bytes inlined")
print("\n== per package and compiler (seconds, compilations, bytes inlined)")
for key, (secs, n, inlined) in sorted(per_group.items(), key=lambda kv: -kv[1][0]):
    print(f"{secs:7.2f} s {n:5d} {inlined:7d}  {key[1]} {key[0]}")

print(f"\n== longest compilations")
for c in sorted(compilations, key=lambda c: -c["seconds"])[:rows]:
    print(f"{c['seconds']:6.3f} s  tier {c['level']}  {c['clock']}  inlined {c['inlined']:5d}  code {c['code']:6d}"
          f"{'  OSR' if c['osr'] else ''}  {c['name']}")

again = collections.defaultdict(list)
for c in compilations:
    if c["level"] == 4:
        again[c["name"]].append(c)
print("\n== compiled more than once at tier 4 (seconds in all)")
for name, cs in sorted(again.items(), key=lambda kv: -sum(c["seconds"] for c in kv[1]))[:rows]:
    if len(cs) > 1:
        print(f"{sum(c['seconds'] for c in cs):6.3f} s  x{len(cs)}  {name}")

deopts = [e["values"] for e in events("jdk.Deoptimization") if start_from <= e["values"]["startTime"][11:23] < end_at]
print(f"\n== deoptimizations: {len(deopts)} (compiled method invalidated <- where the trap was, reason, action)")
counts = collections.Counter()
for d in deopts:
    root = by_id.get(d["compileId"])
    root_name = f"{root['name']} (tier {root['level']}, {root['seconds']:.3f} s to compile)" if root else "?"
    counts[(root_name, method_name(d["method"]), d["lineNumber"], d["reason"], d["action"])] += 1
for (root, where, line, reason, action), n in counts.most_common(rows):
    print(f"{n:4d}  {root} <- {where}:{line} {reason} {action}")
