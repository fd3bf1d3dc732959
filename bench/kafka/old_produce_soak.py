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
import json
import multiprocessing as mp
import os
import queue
import subprocess
import sys
import threading
import time

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
    deadline = time.time() + args.minutes * 60
    interval = 1.0 / args.rate
    next_send = time.time()
    seqs = [0] * args.keys
    pending = []
    while time.time() < deadline:
        k = sent % args.keys
        key = "%s-k%d" % (name, k)
        future = producer.send(args.topic, key=key.encode(), value=("%s|%d" % (key, seqs[k])).encode())
        pending.append((key, seqs[k], future))
        seqs[k] += 1
        sent += 1
        if len(pending) >= 200:
            drain(pending, acked, errors)
        next_send += interval
        pause = next_send - time.time()
        if pause > 0:
            time.sleep(pause)
    producer.flush(60)
    drain(pending, acked, errors)
    producer.close(30)
    results.put((name, {"sent": sent, "acked": acked, "errors": errors[:5], "error_count": len(errors)}))


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
    deadline = time.time() + args.minutes * 60
    interval = 1.0 / args.rate
    next_send = time.time()
    while time.time() < deadline:
        k = sent % args.keys
        key = "%s-k%d" % (name, k)
        process.stdin.write("%s:%s|%d\n" % (key, key, seqs[k]))
        seqs[k] += 1
        sent += 1
        if sent % 20 == 0:
            process.stdin.flush()
        next_send += interval
        pause = next_send - time.time()
        if pause > 0:
            time.sleep(pause)
    process.stdin.close()
    rc = process.wait(timeout=120)
    reader.join(10)
    errors = [line.strip() for line in stderr_lines if "fail" in line.lower() or "error" in line.lower()]
    # kcat reports no acknowledgement per message, only failures: with none and a clean exit, all were delivered.
    acked = {} if errors or rc != 0 else {"%s-k%d" % (name, k): seqs[k] - 1 for k in range(args.keys) if seqs[k]}
    if rc != 0:
        errors.append("kcat exited with %d" % rc)
    results.put((name, {"sent": sent, "acked": acked, "errors": errors[:5], "error_count": len(errors)}))


class Check:
    """Per key: the next seq expected and the partition it lives on; every anomaly counted with a few examples."""

    def __init__(self):
        self.next = {}
        self.partition = {}
        self.records = 0
        self.anomalies = []
        self.anomaly_count = 0

    def record(self, partition, key, value):
        self.records += 1
        try:
            value_key, seq = value.rsplit("|", 1)
            seq = int(seq)
        except ValueError:
            return self.anomaly("p%d: malformed value %r" % (partition, value[:80]))
        if value_key != key:
            return self.anomaly("p%d: key %r with value %r" % (partition, key, value[:80]))
        if self.partition.setdefault(key, partition) != partition:
            return self.anomaly("%s on p%d and p%d" % (key, self.partition[key], partition))
        expected = self.next.get(key, 0)
        if seq != expected:
            self.anomaly("%s: seq %d where %d was next (%s)" % (
                key, seq, expected, "duplicate or reordered" if seq < expected else "gap"))
        self.next[key] = max(expected, seq + 1)

    def anomaly(self, text):
        self.anomaly_count += 1
        if len(self.anomalies) < 10:
            self.anomalies.append(text)

    def done(self, targets):
        return all(self.next.get(key, 0) > seq for key, seq in targets.items())


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
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = queue.Queue(maxsize=100000)
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    check = Check()

    def consume():
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            return
        while True:
            partition, key, value = line.rstrip("\n").split(" ", 2)
            check.record(int(partition), key, value)
            try:
                line = lines.get_nowait()
            except queue.Empty:
                return

    checker_loop(check, targets_queue, consume, args)
    process.kill()
    process.wait()
    results.put((name, summary(check)))


def checker_loop(check, targets_queue, consume, args):
    """Reads until the producers' acknowledged records (sent once they stop) have all been read, or a timeout."""
    targets = None
    give_up = None
    while True:
        consume()
        if targets is None:
            try:
                targets = targets_queue.get_nowait()
                give_up = time.time() + args.catch_up_seconds
            except queue.Empty:
                continue
        if check.done(targets):
            return
        if time.time() > give_up:
            for key, seq in sorted(targets.items()):
                if check.next.get(key, 0) <= seq:
                    check.anomaly("%s: read up to seq %d, acknowledged up to %d" % (key, check.next.get(key, 0) - 1,
                                                                                     seq))
            return


def summary(check):
    return {"records": check.records, "keys": len(check.next), "anomaly_count": check.anomaly_count,
            "anomalies": check.anomalies}


def create_topic(args):
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap)
    try:
        admin.create_topics([NewTopic(args.topic, args.partitions, 1)])
    except TopicAlreadyExistsError:
        pass
    admin.close()


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
    create_topic(args)
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
    failed = False
    total_acked = 0
    for name in PRODUCERS:
        r = produced[name]
        acked = sum(seq + 1 for seq in r["acked"].values())
        total_acked += acked
        failed |= r["error_count"] > 0 or acked != r["sent"]
        print("producer %-18s sent %8d  acknowledged %8d  errors %d %s" % (
            name, r["sent"], acked, r["error_count"], json.dumps(r["errors"]) if r["errors"] else ""))
    for name in CHECKERS:
        r = checked[name]
        failed |= r["anomaly_count"] > 0
        print("checker  %-18s read %8d  keys %4d  anomalies %d %s" % (
            name, r["records"], r["keys"], r["anomaly_count"], json.dumps(r["anomalies"]) if r["anomalies"] else ""))
    if failed:
        print("FAILED: see the lines above")
    else:
        print("OK: %d acknowledged records from %d producers over %.1f min, each read once and in order by %d checkers"
              % (total_acked, len(PRODUCERS), args.minutes, len(CHECKERS)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
