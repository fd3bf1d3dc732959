#!/usr/bin/env python3
"""Test classes' times from surefire's reports, for runOrder=balanced (server and compat-tests poms).

  run-order.py REPORTS_DIR > MODULE/src/test/run-order/.surefire-ci
      surefire's statistics file: one line per class, "1,<ms>,<class>,<class>", longest first.
  run-order.py REPORTS_DIR --simulate MAVEN_LOG [--forks 2]
      the test phase's length as a queue of classes taken by FORKS forks, in the order of the log's
      "Running <class>" lines (the run's own order) and longest first; a model from the classes' own times
      (no JVM starts, no slow-down of one fork by the other), to compare orders, not to predict a run.
"""
import glob
import heapq
import re
import sys
import xml.etree.ElementTree as ET


def class_times(reports):
    times = {}
    for path in glob.glob(reports + "/TEST-*.xml"):
        suite = ET.parse(path).getroot()
        times[suite.get("name")] = float(suite.get("time", "0").replace(",", ""))
    return times


def makespan(order, times, forks):
    free = [(0.0, f) for f in range(forks)]  # (time the fork is free, fork)
    ends = [0.0] * forks
    for name in order:
        at, fork = heapq.heappop(free)
        ends[fork] = at + times.get(name, 0.0)
        heapq.heappush(free, (ends[fork], fork))
    return max(ends), min(ends)


def main(args):
    times = class_times(args[0])
    if "--simulate" not in args:
        for name, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
            print("1,%d,%s,%s" % (round(seconds * 1000), name, name))
        return
    log = open(args[args.index("--simulate") + 1], encoding="utf-8", errors="replace").read()
    forks = int(args[args.index("--forks") + 1]) if "--forks" in args else 2
    ran = [c for c in dict.fromkeys(re.findall(r"Running (\S+)", log)) if c in times]
    total = sum(times[c] for c in ran)
    print("%d classes, their times add up to %.0f s; the ideal with %d forks is %.0f s" % (
        len(ran), total, forks, total / forks))
    for label, order in (("as run", ran), ("longest first", sorted(ran, key=lambda c: -times[c]))):
        last, first = makespan(order, times, forks)
        print("%-14s phase %.0f s, forks end %.0f s apart" % (label, last, last - first))


if __name__ == "__main__":
    main(sys.argv[1:])
