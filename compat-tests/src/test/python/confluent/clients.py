"""confluent-kafka (Debian's python3-confluent-kafka on librdkafka) against a broker: admin, producer, consumer group.

Usage: clients.py BOOTSTRAP. Prints OK on success, exits non-zero with a reason otherwise.
"""
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap = sys.argv[1]
TOPIC = "ck_topic"


def check(condition, message):
    if not condition:
        raise SystemExit("check failed: " + message)


admin = AdminClient({"bootstrap.servers": bootstrap})
for topic, future in admin.create_topics([NewTopic(TOPIC, num_partitions=2, replication_factor=1,
                                                   config={"retention.ms": "3600000"})]).items():
    future.result(30)
# A second create of the same topic fails with TOPIC_ALREADY_EXISTS, as librdkafka reports it.
try:
    admin.create_topics([NewTopic(TOPIC, num_partitions=2, replication_factor=1)])[TOPIC].result(30)
    raise SystemExit("check failed: creating an existing topic succeeded")
except KafkaException as e:
    check(e.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS, "existing topic: %r" % e.args[0])
metadata = admin.list_topics(timeout=30)
check(TOPIC in metadata.topics and len(metadata.topics[TOPIC].partitions) == 2, "metadata %r" % metadata.topics)
check(len(metadata.brokers) == 1, "one broker: %r" % metadata.brokers)

resource = ConfigResource(ConfigResource.Type.TOPIC, TOPIC)
configs = admin.describe_configs([resource])[resource].result(30)
check(configs["retention.ms"].value == "3600000" and not configs["retention.ms"].is_default,
      "retention.ms %r" % configs["retention.ms"])
check(configs["cleanup.policy"].value == "delete" and configs["cleanup.policy"].is_default, "cleanup.policy")
admin.create_partitions([NewPartitions(TOPIC, 3)])[TOPIC].result(30)
check(len(admin.list_topics(topic=TOPIC, timeout=30).topics[TOPIC].partitions) == 3, "3 partitions after growing")

delivered = []
errors = []


def on_delivery(err, msg):
    if err is not None:
        errors.append(err)
    else:
        delivered.append((msg.partition(), msg.offset(), msg.key(), msg.value()))


for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "compression.codec": codec,
                         "linger.ms": 5})
    for i in range(20):
        producer.produce(TOPIC, key=("%s-%d" % (codec, i)).encode(), value=("v-%s-%d" % (codec, i)).encode(),
                         headers=[("codec", codec.encode())], on_delivery=on_delivery)
    check(producer.flush(30) == 0, "flush " + codec)
check(not errors, "delivery errors %r" % errors)
check(len(delivered) == 100, "delivered %d" % len(delivered))
by_partition = {}
for partition, offset, _, _ in delivered:
    by_partition.setdefault(partition, []).append(offset)
for partition, offsets in by_partition.items():
    check(sorted(offsets) == list(range(len(offsets))), "offsets of partition %d: %r" % (partition, sorted(offsets)))

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "ck-group", "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})
consumer.subscribe([TOPIC])
seen = {}
deadline = time.time() + 60
while len(seen) < 100 and time.time() < deadline:
    msg = consumer.poll(0.5)
    if msg is None:
        continue
    check(msg.error() is None, "consumer error %r" % msg.error())
    check(msg.key() not in seen, "duplicate %r" % msg.key())
    codec = msg.key().decode().split("-")[0]
    check(msg.value() == b"v-" + msg.key(), "value of %r" % msg.key())
    check(msg.headers() == [("codec", codec.encode())], "headers %r" % msg.headers())
    seen[msg.key()] = (msg.partition(), msg.offset())
check(len(seen) == 100, "consumed %d" % len(seen))
consumer.commit(asynchronous=False)
committed = consumer.committed([TopicPartition(TOPIC, p) for p in range(3)], timeout=30)
for tp in committed:
    check(tp.offset == len(by_partition.get(tp.partition, [])), "committed %r" % tp)
low, high = consumer.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=30)
check((low, high) == (0, len(by_partition.get(0, []))), "watermarks %r" % ((low, high),))
consumer.close()

groups = admin.list_groups(timeout=30)
check(any(g.id == "ck-group" and g.protocol_type == "consumer" for g in groups), "list_groups %r" % groups)
for topic, future in admin.delete_topics([TOPIC]).items():
    future.result(30)
print("OK")
