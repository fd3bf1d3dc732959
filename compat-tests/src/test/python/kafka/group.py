"""A kafka-python consumer group: two members share a 4-partition topic, commit, and the offsets stick.

Usage: group.py BOOTSTRAP. Prints OK on success, exits non-zero with a reason otherwise.
"""
import sys
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

bootstrap = sys.argv[1]
TOPIC = "py_group_topic"
COUNT = 40

admin = KafkaAdminClient(bootstrap_servers=[bootstrap])
admin.create_topics(new_topics=[NewTopic(name=TOPIC, num_partitions=4, replication_factor=1)])

producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all")
for i in range(COUNT):
    producer.send(TOPIC, key=b"k%d" % i, value=b"m%d" % i)
producer.flush()
producer.close()

received = {}
assignments = {}
lock = threading.Lock()
stop = threading.Event()
errors = []


def member(name):
    try:
        consumer = KafkaConsumer(TOPIC, bootstrap_servers=[bootstrap], group_id="py-group",
                                 auto_offset_reset="earliest", enable_auto_commit=False)
        while not stop.is_set():
            for tp, messages in consumer.poll(timeout_ms=200).items():
                with lock:
                    for m in messages:
                        if m.value in received:
                            errors.append("duplicate %r" % m.value)
                        received[m.value] = name
            consumer.commit()
            with lock:
                assignments[name] = set(tp.partition for tp in consumer.assignment())
        consumer.close()
    except Exception as e:  # reported by the main thread
        errors.append(repr(e))


threads = [threading.Thread(target=member, args=("a",)), threading.Thread(target=member, args=("b",))]
for t in threads:
    t.start()
deadline = time.time() + 60
while time.time() < deadline:
    with lock:
        settled = len(assignments) == 2 and all(len(a) == 2 for a in assignments.values())
        if len(received) == COUNT and settled:
            break
    time.sleep(0.2)
stop.set()
for t in threads:
    t.join(30)

assert not errors, errors
assert len(received) == COUNT, "received %d of %d" % (len(received), COUNT)
assert assignments["a"].isdisjoint(assignments["b"]), assignments
assert assignments["a"] | assignments["b"] == {0, 1, 2, 3}, assignments

checker = KafkaConsumer(bootstrap_servers=[bootstrap], group_id="py-group", enable_auto_commit=False)
committed = sum(checker.committed(TopicPartition(TOPIC, p)) or 0 for p in range(4))
checker.close()
assert committed == COUNT, "committed %d" % committed

groups = dict(admin.list_consumer_groups())
assert groups.get("py-group") == "consumer", groups
admin.close()
print("OK")
