"""confluent-kafka transactions: commit and abort, read_committed vs read_uncommitted, and
send_offsets_to_transaction committing a group's offsets with the outputs.

Usage: transactions.py BOOTSTRAP. Prints OK on success, exits non-zero with a reason otherwise.
"""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]
IN, OUT = "ck_txn_in", "ck_txn_out"


def check(condition, message):
    if not condition:
        raise SystemExit("check failed: " + message)


admin = AdminClient({"bootstrap.servers": bootstrap})
for future in admin.create_topics([NewTopic(IN, 1, 1), NewTopic(OUT, 1, 1)]).values():
    future.result(30)

producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "ck-txn"})
producer.init_transactions(30)
producer.begin_transaction()
producer.produce(IN, key=b"a", value=b"committed-1")
producer.produce(IN, key=b"b", value=b"committed-2")
producer.commit_transaction(30)
producer.begin_transaction()
producer.produce(IN, key=b"c", value=b"aborted")
producer.flush(30)  # librdkafka drops records not yet sent on abort; this one must reach the log first
producer.abort_transaction(30)
producer.begin_transaction()
producer.produce(IN, key=b"d", value=b"committed-3")
producer.commit_transaction(30)


def read_all(isolation, group, topic, expected):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "isolation.level": isolation})
    consumer.subscribe([topic])
    values = []
    deadline = time.time() + 30
    while time.time() < deadline and len(values) < expected:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            values.append((msg.offset(), msg.value()))
    # Anything beyond what is expected would show up now.
    end = time.time() + 1
    while time.time() < end:
        msg = consumer.poll(0.2)
        if msg is not None and msg.error() is None:
            values.append((msg.offset(), msg.value()))
    return consumer, values


consumer, committed = read_all("read_committed", "ck-rc", IN, 3)
check([v for _, v in committed] == [b"committed-1", b"committed-2", b"committed-3"], "read_committed %r" % committed)
_, everything = read_all("read_uncommitted", "ck-ru", IN, 4)
check([v for _, v in everything] == [b"committed-1", b"committed-2", b"aborted", b"committed-3"],
      "read_uncommitted %r" % everything)

# Consume-transform-produce: outputs and the input group's offsets commit together.
transform = Producer({"bootstrap.servers": bootstrap, "transactional.id": "ck-transform"})
transform.init_transactions(30)
transform.begin_transaction()
for _, value in committed:
    transform.produce(OUT, value=value.upper())
next_offset = committed[-1][0] + 1
transform.send_offsets_to_transaction([TopicPartition(IN, 0, next_offset)], consumer.consumer_group_metadata(), 30)
transform.commit_transaction(30)
offsets = consumer.committed([TopicPartition(IN, 0)], timeout=30)
check(offsets[0].offset == next_offset, "group offset committed with the transaction: %r" % offsets)
consumer.close()
_, outputs = read_all("read_committed", "ck-out", OUT, 3)
check(sorted(v for _, v in outputs) == [b"COMMITTED-1", b"COMMITTED-2", b"COMMITTED-3"], "outputs %r" % outputs)
print("OK")
