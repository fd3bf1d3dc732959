#!/usr/bin/env bash
# Start-up A/B: alternates `./tandem start` of two built checkouts, same machine, same moment, and prints per run the
# time from spawn to the first answer (ZooKeeper: a session handshake; Kafka: a Metadata v0 answer via
# bench/kafka/probe.py), the process CPU time (user+sys) at that answer (less sensitive to a loaded machine than wall
# time), the idle RSS 3 s later, the thread count, and the broker's own "connected in / registered in" figures.
# Usage: bench/startup-ab.sh ROUNDS ROOT_A ROOT_B [zookeeper|zookeeper,kafka]   (each root built with
# `mvn -q -B -DskipTests package`; run one round first and discard it: it records each side's CDS archive).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=$1; root_a=$2; root_b=$3; roles=${4:-zookeeper,kafka}; port=${PORT:-39092}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat > "$work/zkprobe.py" <<'PY'
import socket, struct, sys, time
host, port, spawned_ns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
body = struct.pack(">iqiqi", 0, 0, 30000, 0, 16) + b"\0" * 16   # ConnectRequest, new session
request = struct.pack(">i", len(body)) + body
deadline = time.time() + 120
while time.time() < deadline:
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            s.sendall(request)
            if len(s.recv(4)) == 4:
                print((time.time_ns() - spawned_ns) / 1e6); sys.exit(0)
    except OSError:
        pass
    time.sleep(0.002)
sys.exit(1)
PY
for i in $(seq 1 "$n"); do
  for side in A B; do
    if [ $side = A ]; then root=$root_a; else root=$root_b; fi
    rm -rf "$work/data"
    t0=$(date +%s%N)
    "$root/tandem" start --roles "$roles" --data-dir "$work/data" --kafka-port "$port" --zk-port $((port + 1)) \
      > "$work/log" 2>&1 &
    pid=$!
    if [ "$roles" = zookeeper ]; then
      first=$(/usr/bin/python3 "$work/zkprobe.py" 127.0.0.1 $((port + 1)) "$t0")
    else
      first=$(/usr/bin/python3 "$here/kafka/probe.py" 127.0.0.1 "$port" "$t0")
    fi
    cpu=$(awk '{printf "%d", ($14 + $15) * 1000 / 100}' "/proc/$pid/stat")   # clock ticks of 10 ms
    sleep 3
    rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
    threads=$(ls "/proc/$pid/task" | wc -l)
    parts=$(grep -o "connected in [0-9]* ms, registered in [0-9]* ms" "$work/log" | tr -cd '0-9 ' | tr -s ' ')
    printf "%s first_answer_ms=%6.0f cpu_ms=%5s idle_rss_mb=%s threads=%s connect/register_ms=%s\n" \
      "$side" "$first" "$cpu" "$rss" "$threads" "$parts"
    kill "$pid"; wait "$pid" 2>/dev/null
  done
done
