"""Two kafka-python consumers in one group share a 4-partition topic and commit what they read.
Usage: group_consumers.py BOOTSTRAP TOPIC GROUP COUNT (COUNT records already produced, values r0..r{COUNT-1}).
Prints each consumer's assignment and how many records it read; exits 0 only if each record was read exactly once,
both consumers ended with two partitions each, and every commit was accepted."""
import sys
import threading
import time

from kafka import KafkaConsumer

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

lock = threading.Lock()
seen = {}
read_by = [0, 0]
errors = []
stop = threading.Event()
consumers = [KafkaConsumer(topic, bootstrap_servers=[bootstrap], group_id=group, auto_offset_reset="earliest",
                           enable_auto_commit=False, session_timeout_ms=10000, heartbeat_interval_ms=1000,
                           max_poll_records=5)
             for _ in range(2)]


# One thread per consumer: kafka-python 2.0.2 blocks inside poll() until its join completes, so two consumers
# driven from one thread would wait on each other.
def run(i):
    c = consumers[i]
    try:
        while not stop.is_set():
            batch = c.poll(timeout_ms=200)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                continue
            c.commit()
            with lock:
                for r in records:
                    seen[r.value] = seen.get(r.value, 0) + 1
                read_by[i] += len(records)
    except Exception as e:  # reported below; the exit code carries it
        errors.append("consumer%d: %r" % (i, e))


def balanced():
    assigned = [c.assignment() for c in consumers]
    return all(len(a) == 2 for a in assigned) and len(assigned[0] | assigned[1]) == 4


threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
deadline = time.time() + 60
while time.time() < deadline and not errors:
    with lock:
        done = len(seen) == count
    if done and balanced():
        break
    time.sleep(0.2)
was_balanced = balanced()
stop.set()
for t in threads:
    t.join()

for i, c in enumerate(consumers):
    print("consumer%d partitions=%s read=%d" % (i, sorted(tp.partition for tp in c.assignment()), read_by[i]))
duplicates = {k: v for k, v in seen.items() if v != 1}
print("distinct=%d duplicates=%d balanced=%s" % (len(seen), len(duplicates), was_balanced))
for e in errors:
    print(e, file=sys.stderr)
for c in consumers:
    c.close()
ok = (not errors and was_balanced and not duplicates
      and set(seen) == {("r%d" % i).encode() for i in range(count)})
sys.exit(0 if ok else 1)
