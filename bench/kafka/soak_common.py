"""What the produce soaks (old_produce_soak.py, codec_soak.py) share: producers' paced sends over their own keys, the
per-key order check of what checkers read, and the report lines. Imported from the scripts' own directory."""
import json
import queue
import subprocess
import threading
import time


def paced_keys(name, args):
    """Yields (index, key) round robin over the producer's --keys keys ("<name>-k<index>"), --rate per second, until
    --minutes have passed. The caller sends one record per item."""
    deadline = time.time() + args.minutes * 60
    interval = 1.0 / args.rate
    next_send = time.time()
    sent = 0
    while time.time() < deadline:
        k = sent % args.keys
        yield k, "%s-k%d" % (name, k)
        sent += 1
        next_send += interval
        pause = next_send - time.time()
        if pause > 0:
            time.sleep(pause)


def all_acked(name, seqs):
    """Every key's last seq, for a client that reports failures only (kcat): with none, all were delivered."""
    return {"%s-k%d" % (name, k): seq - 1 for k, seq in enumerate(seqs) if seq}


def producer_result(sent, acked, errors):
    return {"sent": sent, "acked": acked, "errors": errors[:5], "error_count": len(errors)}


def acknowledged(result):
    """The number of records a producer's result says were acknowledged."""
    return sum(seq + 1 for seq in result["acked"].values())


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


def run_line_checker(name, command, record, args, targets_queue, results):
    """Checks what a process prints, one "partition key value" line a record (kcat -f '%p %k %s\\n', or a Java
    consumer): record(check, line) passes each line to the Check."""
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
            record(check, line)
            try:
                line = lines.get_nowait()
            except queue.Empty:
                return

    checker_loop(check, targets_queue, consume, args)
    process.kill()
    process.wait()
    results.put((name, summary(check)))


def create_topics(bootstrap, topics, partitions):
    """Creates each topic (replication factor 1) unless it exists."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    for topic in topics:
        try:
            admin.create_topics([NewTopic(topic, partitions, 1)])
        except TopicAlreadyExistsError:
            pass
    admin.close()


def print_report(produced, checked, width):
    """Prints a line per producer and per checker ((name, result) pairs, in that order); whether any failed."""
    failed = False
    for name, r in produced:
        acked = acknowledged(r)
        failed |= r["error_count"] > 0 or acked != r["sent"]
        print("producer %-*s sent %8d  acknowledged %8d  errors %d %s" % (
            width, name, r["sent"], acked, r["error_count"], json.dumps(r["errors"]) if r["errors"] else ""))
    for name, r in checked:
        failed |= r["anomaly_count"] > 0
        print("checker  %-*s read %8d  keys %4d  anomalies %d %s" % (
            width, name, r["records"], r["keys"], r["anomaly_count"], json.dumps(r["anomalies"]) if r["anomalies"]
            else ""))
    return failed
