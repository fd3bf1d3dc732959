"""Long produce-and-read run with every codec against one Kafka broker (bench/kafka/run-kafka-codec-soak.sh starts it).

Two real clients that have all of Kafka's codecs produce at once: kcat (librdkafka, with its own snappy, lz4 and zstd)
and the Apache Java client (snappy-java, lz4-java, zstd-jni; bench/kafka/CodecSoakClient.java). For each codec (none,
gzip, snappy, lz4, zstd) one topic, codec-<codec>, and two producers writing to it, one per client, each idempotent,
acks=all, one request in flight. Each producer writes --keys keys of its own round robin; a record's value is
"<key>|<seq>|<padding>", seq counting per key from 0, padding ("<key>.<seq>;" repeated to --value-bytes) compressible
and derived from key and seq, so a reader can tell a value that came back changed.

Checkers read while the producers write: one kcat per topic, and one Java consumer over all five topics. Every record
must come exactly once and in order (per key the seqs 0, 1, 2, ... on one partition) with its padding intact, and at
the end every acknowledged record must have been read. Then the log itself is read with raw Fetch v4 requests: every
batch of codec-<codec> must carry that codec in its attributes (the broker keeps the producer's codec: the default
compression.type=producer), the batches' offsets follow on without gaps, and each topic holds exactly the records its
producers had acknowledged.

While it runs, the server's RSS (and its anonymous part), heap in use (jstat) and thread count are printed every
--sample-seconds. One line per producer and checker and a verdict at the end; exit status 1 on any error. Not run by
CI; nothing is asserted.
"""
import argparse
import json
import os
import queue
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak_common import (acknowledged, all_acked, create_topics, paced_keys, producer_result,  # noqa: E402
                         print_report, run_line_checker)

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
CLIENTS = ("kcat", "java")


def topic_of(codec):
    return "codec-" + codec


def padding(key, seq, size):
    unit = "%s.%d;" % (key, seq)
    return (unit * (size // len(unit) + 1))[:size]


def producer_command(client, codec, args):
    topic = topic_of(codec)
    if client == "kcat":
        # kcat reports no acknowledgement per message, only failures: with none and a clean exit, all were delivered.
        return ["kcat", "-P", "-b", args.bootstrap, "-t", topic, "-K", ":", "-z", codec,
                "-X", "acks=all", "-X", "enable.idempotence=true", "-X", "max.in.flight.requests.per.connection=1",
                "-X", "linger.ms=5"]
    return java_command(args) + ["produce", args.bootstrap, topic, codec]


def java_command(args):
    return ["java", "-Xmx256m", "-XX:+UseSerialGC", "-cp", args.java_classpath, "CodecSoakClient"]


def run_producer(name, client, codec, args, results):
    process = subprocess.Popen(producer_command(client, codec, args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    stderr_lines = []
    stdout_lines = []
    threads = [threading.Thread(target=lambda: stderr_lines.extend(process.stderr), daemon=True),
               threading.Thread(target=lambda: stdout_lines.extend(process.stdout), daemon=True)]
    for t in threads:
        t.start()
    sent = 0
    seqs = [0] * args.keys
    broken = None
    for k, key in paced_keys(name, args):
        try:
            process.stdin.write("%s:%s|%d|%s\n" % (key, key, seqs[k], padding(key, seqs[k], args.value_bytes)))
            if sent % 20 == 19:
                process.stdin.flush()
        except OSError as e:  # the client died: what it acknowledged is unknown, so nothing counts
            broken = "stdin: %r" % e
            break
        seqs[k] += 1
        sent += 1
    try:
        process.stdin.close()
    except OSError:
        pass
    rc = process.wait(timeout=300)
    for t in threads:
        t.join(10)
    if client == "java":  # its logger's own lines (SLF4J, log4j) are not send failures; those it prints itself
        errors = [line.strip() for line in stderr_lines if line.startswith("delivery failed")]
    else:
        errors = [line.strip() for line in stderr_lines if "fail" in line.lower() or "error" in line.lower()]
    if broken:
        errors.append(broken)
    if rc != 0:
        errors.append("%s exited with %d" % (client, rc))
    if client == "java" and not errors:
        reported = [line.split() for line in stdout_lines if line.startswith("acked ")]
        if not reported or int(reported[-1][1]) != sent:
            errors.append("java acknowledged %s of %d" % (reported[-1][1] if reported else "?", sent))
    acked = {} if errors else all_acked(name, seqs)
    results.put((name, producer_result(sent, acked, errors)))


def run_checker(name, command, args, targets_queue, results):
    """A process printing "partition key value" lines (kcat -f '%p %k %s\\n', or the Java consumer) is checked."""
    def record(check, line):
        try:
            partition, key, value = line.rstrip("\n").split(" ", 2)
            head, _, pad = value.rpartition("|")
            seq = int(head.rsplit("|", 1)[1])
        except (ValueError, IndexError):
            return check.anomaly("malformed line %r" % line[:80])
        if pad != padding(key, seq, args.value_bytes):
            check.records += 1
            return check.anomaly("%s seq %d: padding changed (%d bytes read)" % (key, seq, len(pad)))
        check.record(int(partition), key, head)

    run_line_checker(name, command, record, args, targets_queue, results)


class RawFetch:
    """Fetch v4 (magic 2 batches as stored, never converted) over a plain socket, to see each batch's attributes."""

    def __init__(self, bootstrap):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.correlation = 0

    def fetch(self, topic, partition, offset, max_bytes=8 << 20):
        self.correlation += 1
        client = b"codec-soak"
        t = topic.encode()
        body = struct.pack(">hhih", 1, 4, self.correlation, len(client)) + client
        body += struct.pack(">iiiib", -1, 100, 1, max_bytes, 0)
        body += struct.pack(">ih", 1, len(t)) + t + struct.pack(">iiqi", 1, partition, offset, max_bytes)
        self.sock.sendall(struct.pack(">i", len(body)) + body)
        data = self._read(struct.unpack(">i", self._read(4))[0])
        pos = 8  # correlation id, throttle time
        _topics, = struct.unpack_from(">i", data, pos)
        name_len, = struct.unpack_from(">h", data, pos + 4)
        pos += 6 + name_len + 4  # the one topic, its partition count (1)
        _p, error, high_watermark, _lso, aborted = struct.unpack_from(">ihqqi", data, pos)
        pos += 26 + max(aborted, 0) * 16
        size, = struct.unpack_from(">i", data, pos)
        return error, high_watermark, data[pos + 4:pos + 4 + max(size, 0)]

    def _read(self, n):
        chunks = []
        while n:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                raise OSError("connection closed")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)


def check_stored_codecs(args):
    """Per topic: batches by codec, records, and anomalies (another codec, an offset gap, a fetch error)."""
    fetcher = RawFetch(args.bootstrap)
    report = {}
    for codec, codec_id in CODECS.items():
        topic = topic_of(codec)
        batches = {}
        records = 0
        anomalies = []
        for partition in range(args.partitions):
            offset = 0
            while True:
                error, high_watermark, data = fetcher.fetch(topic, partition, offset)
                if error:
                    anomalies.append("p%d offset %d: error %d" % (partition, offset, error))
                    break
                if offset >= high_watermark:
                    break
                pos = 0
                progressed = False
                while pos + 61 <= len(data):
                    base, length = struct.unpack_from(">qi", data, pos)
                    if pos + 12 + length > len(data):
                        break  # a partial batch at the end of the answer: fetched again from its offset
                    magic, = struct.unpack_from(">b", data, pos + 16)
                    attributes, last_delta = struct.unpack_from(">hi", data, pos + 21)
                    count, = struct.unpack_from(">i", data, pos + 57)
                    batch_codec = attributes & 7 if magic == 2 else -1
                    batches[batch_codec] = batches.get(batch_codec, 0) + 1
                    if batch_codec != codec_id and len(anomalies) < 10:
                        anomalies.append("p%d offset %d: magic %d codec %d" % (partition, base, magic, batch_codec))
                    if base != offset and len(anomalies) < 10:
                        anomalies.append("p%d: batch at %d where %d was next" % (partition, base, offset))
                    records += count
                    offset = base + last_delta + 1
                    progressed = True
                    pos += 12 + length
                if not progressed:
                    anomalies.append("p%d offset %d: no whole batch below the high watermark %d" % (
                        partition, offset, high_watermark))
                    break
        names = {v: k for k, v in CODECS.items()}
        report[codec] = {"records": records, "anomalies": anomalies,
                         "batches": {names.get(c, str(c)): n for c, n in sorted(batches.items())}}
    return report


def server_sample(pid):
    """RSS and its anonymous part (MiB), threads, and heap in use (MiB, from jstat; None if it cannot attach)."""
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            status[name] = value.split()[0] if value.split() else ""
    heap = None
    try:
        out = subprocess.run(["jstat", "-gc", str(pid)], capture_output=True, text=True, timeout=30).stdout.split("\n")
        values = dict(zip(out[0].split(), out[1].split()))
        heap = sum(float(values[c].replace(",", ".")) for c in ("S0U", "S1U", "EU", "OU")) / 1024
    except (OSError, IndexError, KeyError, ValueError, subprocess.TimeoutExpired):
        pass
    return {"rss": int(status["VmRSS"]) / 1024, "anon": int(status.get("RssAnon", 0)) / 1024,
            "threads": int(status["Threads"]), "heap": heap}


def sampler(args, started, samples, stop):
    while not stop.wait(args.sample_seconds):
        try:
            s = server_sample(args.server_pid)
        except (OSError, KeyError, ValueError):
            print("%6.0f s  server gone" % (time.time() - started), flush=True)
            return
        s["seconds"] = time.time() - started
        s["load"] = os.getloadavg()[0]
        samples.append(s)
        print("%6.0f s  load %5.1f  RSS %6.1f MiB  anonymous %6.1f MiB  heap %s MiB  threads %d" % (
            s["seconds"], s["load"], s["rss"], s["anon"], "%.1f" % s["heap"] if s["heap"] is not None else "?",
            s["threads"]), flush=True)


def describe(samples, field, since):
    values = [s[field] for s in samples if s["seconds"] >= since and s[field] is not None]
    if not values:
        return "?"
    return "%.1f .. %.1f (last %.1f)" % (min(values), max(values), values[-1]) if field != "threads" else \
        "%d .. %d (last %d)" % (min(values), max(values), values[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", default="127.0.0.1:39292")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=12)
    parser.add_argument("--rate", type=float, default=100, help="records per second per producer")
    parser.add_argument("--keys", type=int, default=12, help="keys per producer")
    parser.add_argument("--value-bytes", type=int, default=300, help="padding per value")
    parser.add_argument("--catch-up-seconds", type=float, default=300)
    parser.add_argument("--sample-seconds", type=float, default=30)
    parser.add_argument("--java-classpath", required=True, help="CodecSoakClient's class and the Java client's jars")
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--codecs", default=",".join(CODECS), help="a subset, comma-separated, to tell codecs apart")
    args = parser.parse_args()
    for codec in list(CODECS):
        if codec not in args.codecs.split(","):
            del CODECS[codec]
    create_topics(args.bootstrap, [topic_of(codec) for codec in CODECS], args.partitions)
    results = queue.Queue()
    checkers = {"kcat-" + codec: ["kcat", "-C", "-b", args.bootstrap, "-t", topic_of(codec), "-o", "beginning", "-u",
                                  "-f", "%p %k %s\n"] for codec in CODECS}
    checkers["java-all"] = java_command(args) + ["consume", args.bootstrap, str(args.partitions)] + \
        [topic_of(c) for c in CODECS]
    targets_queues = {name: queue.Queue() for name in checkers}
    threads = [threading.Thread(target=run_checker, args=(name, command, args, targets_queues[name], results))
               for name, command in checkers.items()]
    producers = [(client + "-" + codec, client, codec) for codec in CODECS for client in CLIENTS]
    threads += [threading.Thread(target=run_producer, args=(name, client, codec, args, results))
                for name, client, codec in producers]
    started = time.time()
    samples = []
    stop = threading.Event()
    sampling = threading.Thread(target=sampler, args=(args, started, samples, stop), daemon=True)
    sampling.start()
    for t in threads:
        t.start()
    produced = {}
    for _ in producers:
        name, result = results.get()
        produced[name] = result
    for name, queue_ in targets_queues.items():
        codec = name.split("-", 1)[1]
        queue_.put({key: seq for producer, result in produced.items() for key, seq in result["acked"].items()
                    if codec == "all" or producer.endswith("-" + codec)})
    checked = {}
    for _ in checkers:
        name, result = results.get()
        checked[name] = result
    stored = check_stored_codecs(args)
    stop.set()
    final = server_sample(args.server_pid)
    final["seconds"] = time.time() - started
    samples.append(final)
    print()
    failed = print_report([(name, produced[name]) for name, _, _ in producers],
                          [(name, checked[name]) for name in checkers], 12)
    for codec, r in stored.items():
        expected = sum(acknowledged(produced[c + "-" + codec]) for c in CLIENTS)
        bad = r["anomalies"] + ([] if r["records"] == expected else ["%d records stored, %d acknowledged" % (
            r["records"], expected)])
        failed |= bool(bad)
        print("stored   %-12s records %8d  batches %s  anomalies %d %s" % (
            topic_of(codec), r["records"], json.dumps(r["batches"]), len(bad), json.dumps(bad) if bad else ""))
    warm = min(120.0, args.minutes * 60 / 4)
    print("server after %.0f s: RSS %s MiB, anonymous %s MiB, heap %s MiB, threads %s" % (
        warm, describe(samples, "rss", warm), describe(samples, "anon", warm), describe(samples, "heap", warm),
        describe(samples, "threads", warm)))
    total = sum(acknowledged(r) for r in produced.values())
    if failed:
        print("FAILED: see the lines above")
    else:
        print("OK: %d acknowledged records from %d producers (%s x %s) over %.1f min, each read once and in order by "
              "%d checkers, every batch stored with its producer's codec" % (
                  total, len(producers), "/".join(CLIENTS), "/".join(CODECS), args.minutes, len(checkers)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
