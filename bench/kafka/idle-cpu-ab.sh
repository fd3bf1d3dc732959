#!/usr/bin/env bash
# An idle node's CPU, before and after a change: starts a Kafka+ZooKeeper node from each jar in turn (its
# dependencies from lib/ beside the jar), lets it settle, then reads over WINDOW seconds the process's utime+stime
# (/proc/PID/stat) and the kafka-group-timer thread's CPU and context switches (/proc/PID/task/TID).
# Usage: bench/kafka/idle-cpu-ab.sh JAR [JAR...]   (env: WINDOW=60 SETTLE=10 PORT=39092)
set -euo pipefail
window=${WINDOW:-60} settle=${SETTLE:-10} port=${PORT:-39092}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "$1/stat"; }
switches() { awk '/ctxt_switches/ {s += $2} END {print s}' "$1/status"; }
for jar in "$@"; do
  rm -rf "$work/data"
  java -Xms16m -Xmx512m -XX:+UseSerialGC -Dio.netty.jfr.enabled=false -cp "$jar:$(dirname "$jar")/lib/*" \
    io.tandem.server.Main start --data-dir "$work/data" --kafka-port "$port" --zk-port $((port + 1)) \
    > "$work/node.log" 2>&1 &
  pid=$!
  sleep "$settle"
  timer=""
  for t in /proc/$pid/task/*; do
    if [ "$(cat "$t/comm")" = "kafka-group-tim" ]; then timer=$t; fi
  done
  [ -n "$timer" ] || { echo "no kafka-group-timer thread in $pid" >&2; exit 1; }
  p0=$(ticks /proc/$pid) t0=$(ticks "$timer") s0=$(switches "$timer")
  sleep "$window"
  p1=$(ticks /proc/$pid) t1=$(ticks "$timer") s1=$(switches "$timer")
  echo "$jar: ${window} s idle: process $(( (p1 - p0) * 1000 / hz )) ms CPU;" \
    "kafka-group-timer $(( (t1 - t0) * 1000 / hz )) ms CPU, $((s1 - s0)) context switches;" \
    "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S) UTC"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
