"""Long mixed-version produce run against one Kafka broker (bench/kafka/run-kafka-old-produce.sh starts it).

Producers of every Produce generation write at once, each as its own process: kafka-python with api_version (0,8,2)
(Produce v0, magic 0), (0,9) (v1, magic 0, gzip) and (0,10) (v2, magic 1, plain and gzip), current kafka-python
(magic 2), and kcat (librdkafka) with api.version.request=false and broker.version.fallback 0.9.0 (magic 0, gzip)
and 0.10.0 (magic 1), and current kcat (idempotent, gzip). Only gzip: Debian's kafka-python has no snappy, lz4 or
zstd codec to read the others with, and Kafka down-converts no zstd for old fetches anyway (a checker of Fetch v1-2
would get UNSUPPORTED_COMPRESSION_TYPE). Each producer writes --keys keys of its own, round robin; a record's value is
"<key>|<seq>", seq counting per key from 0, every producer acks=all with one request in flight, so per key the log
order is the send order.

Checkers read every partition from the beginning while the producers run, each with another Fetch generation:
kafka-python current and (0,10) (Fetch v2, down-converted to magic 1), kcat current and 0.9.0 fallback (Fetch v1,
magic 0). Every record must come exactly once and in order: per key the seqs are 0, 1, 2, ... on one partition.
At the end every acknowledged record of every producer must have been read by every checker.

Prints one line per producer and checker and a verdict; exit status 1 on any error. Nothing is asserted by CI.
"""
import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time

from soak_common import (Check, acknowledged, all_acked, checker_loop, create_topics, paced_keys, print_report,
                         producer_result, run_line_checker, summary)

PRODUCERS = {
    # name: (client, settings, compression)
    "py-0.8.2": ("python", (0, 8, 2), None),
    "py-0.9-gzip": ("python", (0, 9), "gzip"),
    "py-0.10": ("python", (0, 10), None),
    "py-0.10-gzip": ("python", (0, 10), "gzip"),
    "py-current": ("python", None, None),
    "kcat-0.9-gzip": ("kcat", "0.9.0", "gzip"),
    "kcat-0.10": ("kcat", "0.10.0", None),
    "kcat-current-gzip": ("kcat", None, "gzip"),
}
CHECKERS = {
    "py-current": ("python", None),
    "py-0.10": ("python", (0, 10)),
    "kcat-current": ("kcat", None),
    "kcat-0.9": ("kcat", "0.9.0"),
}


def kcat_version_flags(fallback):
    if fallback is None:
        return []
    return ["-X", "api.version.request=false", "-X", "broker.version.fallback=" + fallback]


def run_python_producer(name, api_version, compression, args, results):
    from kafka import KafkaProducer
    settings = dict(bootstrap_servers=args.bootstrap, acks="all", retries=0,
                    max_in_flight_requests_per_connection=1, linger_ms=5, request_timeout_ms=30000)
    if api_version is not None:
        settings["api_version"] = api_version
    if compression:
        settings["compression_type"] = compression
    producer = KafkaProducer(**settings)
    acked = {}
    errors = []
    sent = 0
    seqs = [0] * args.keys
    pending = []
    for k, key in paced_keys(name, args):
        future = producer.send(args.topic, key=key.encode(), value=("%s|%d" % (key, seqs[k])).encode())
        pending.append((key, seqs[k], future))
        seqs[k] += 1
        sent += 1
        if len(pending) >= 200:
            drain(pending, acked, errors)
    producer.flush(60)
    drain(pending, acked, errors)
    producer.close(30)
    results.put((name, producer_result(sent, acked, errors)))


def drain(pending, acked, errors):
    for key, seq, future in pending:
        try:
            future.get(timeout=60)
            # One request in flight and no retries: an acknowledged seq follows every earlier one of its key.
            acked[key] = max(acked.get(key, -1), seq)
        except Exception as e:  # a well-behaved client's error: counted, the run fails
            errors.append("%s %d: %r" % (key, seq, e))
    pending.clear()


def run_kcat_producer(name, fallback, compression, args, results):
    command = ["kcat", "-P", "-b", args.bootstrap, "-t", args.topic, "-K", ":",
               "-X", "acks=all", "-X", "max.in.flight.requests.per.connection=1", "-X", "linger.ms=5"]
    command += kcat_version_flags(fallback)
    if fallback is None:
        command += ["-X", "enable.idempotence=true"]
    if compression:
        command += ["-z", compression]
    if fallback is not None:
        command += ["-X", "message.send.max.retries=0"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr_lines = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(process.stderr), daemon=True)
    reader.start()
    sent = 0
    seqs = [0] * args.keys
    for k, key in paced_keys(name, args):
        process.stdin.write("%s:%s|%d\n" % (key, key, seqs[k]))
        seqs[k] += 1
        sent += 1
        if sent % 20 == 0:
            process.stdin.flush()
    process.stdin.close()
    rc = process.wait(timeout=120)
    reader.join(10)
    errors = [line.strip() for line in stderr_lines if "fail" in line.lower() or "error" in line.lower()]
    # kcat reports no acknowledgement per message, only failures: with none and a clean exit, all were delivered.
    acked = {} if errors or rc != 0 else all_acked(name, seqs)
    if rc != 0:
        errors.append("kcat exited with %d" % rc)
    results.put((name, producer_result(sent, acked, errors)))


def run_python_checker(name, api_version, args, targets_queue, results):
    from kafka import KafkaConsumer, TopicPartition
    settings = dict(bootstrap_servers=args.bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                    consumer_timeout_ms=1000)
    if api_version is not None:
        settings["api_version"] = api_version
    consumer = KafkaConsumer(**settings)
    consumer.assign([TopicPartition(args.topic, p) for p in range(args.partitions)])
    consumer.seek_to_beginning()
    check = Check()
    checker_loop(check, targets_queue, lambda: consume_python(consumer, check), args)
    consumer.close()
    results.put((name, summary(check)))


def consume_python(consumer, check):
    for batch in consumer.poll(timeout_ms=1000, max_records=5000).values():
        for r in batch:
            check.record(r.partition, r.key.decode(), r.value.decode())


def run_kcat_checker(name, fallback, args, targets_queue, results):
    command = ["kcat", "-C", "-b", args.bootstrap, "-t", args.topic, "-o", "beginning", "-u",
               "-f", "%p %k %s\n"] + kcat_version_flags(fallback)
    run_line_checker(name, command, record_line, args, targets_queue, results)


def record_line(check, line):
    partition, key, value = line.rstrip("\n").split(" ", 2)
    check.record(int(partition), key, value)


def rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", default="127.0.0.1:39092")
    parser.add_argument("--topic", default="old-produce")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=100, help="records per second per producer")
    parser.add_argument("--keys", type=int, default=24, help="keys per producer")
    parser.add_argument("--catch-up-seconds", type=float, default=180)
    parser.add_argument("--server-pid", type=int)
    args = parser.parse_args()
    create_topics(args.bootstrap, [args.topic], args.partitions)
    results = mp.Queue()
    checker_targets = {name: mp.Queue() for name in CHECKERS}
    checkers = []
    for name, (client, version) in CHECKERS.items():
        target = run_python_checker if client == "python" else run_kcat_checker
        checkers.append(mp.Process(target=target, args=(name, version, args, checker_targets[name], results)))
    producers = []
    for name, (client, version, compression) in PRODUCERS.items():
        target = run_python_producer if client == "python" else run_kcat_producer
        producers.append(mp.Process(target=target, args=(name, version, compression, args, results)))
    started = time.time()
    for p in checkers + producers:
        p.start()
    while any(p.is_alive() for p in producers):
        time.sleep(30)
        rss = rss_mb(args.server_pid) if args.server_pid else None
        print("%6.0f s  load %.1f %.1f %.1f  server RSS %s MB" % ((time.time() - started,) + os.getloadavg()
              + ("%.0f" % rss if rss else "?",)), flush=True)
    produced = {}
    for _ in producers:
        name, result = results.get(timeout=600)
        produced[name] = result
    targets = {}
    for result in produced.values():
        targets.update(result["acked"])
    for q in checker_targets.values():
        q.put(targets)
    checked = {}
    for _ in checkers:
        name, result = results.get(timeout=args.catch_up_seconds + 600)
        checked[name] = result
    for p in checkers + producers:
        p.join(30)
    failed = print_report([(name, produced[name]) for name in PRODUCERS],
                          [(name, checked[name]) for name in CHECKERS], 18)
    total_acked = sum(acknowledged(r) for r in produced.values())
    if failed:
        print("FAILED: see the lines above")
    else:
        print("OK: %d acknowledged records from %d producers over %.1f min, each read once and in order by %d checkers"
              % (total_acked, len(PRODUCERS), args.minutes, len(CHECKERS)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
