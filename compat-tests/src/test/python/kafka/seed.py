"""The seed snippet, made runnable: create my_topic with 3 partitions, send "hello world", consume it.

Usage: seed.py BOOTSTRAP. Prints OK on success, exits non-zero with a reason otherwise.
"""
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

bootstrap = sys.argv[1]

admin_client = KafkaAdminClient(bootstrap_servers=[bootstrap])
admin_client.create_topics(new_topics=[NewTopic(name="my_topic", num_partitions=3, replication_factor=1)])
topics = admin_client.list_topics()
assert "my_topic" in topics, topics

producer = KafkaProducer(bootstrap_servers=[bootstrap])
metadata = producer.send("my_topic", b"hello world").get(timeout=30)
producer.flush()
producer.close()

consumer = KafkaConsumer("my_topic", bootstrap_servers=[bootstrap], auto_offset_reset="earliest",
                         consumer_timeout_ms=20000)
received = None
for message in consumer:
    received = message
    break
consumer.close()
assert received is not None, "nothing consumed"
assert received.value == b"hello world", received
assert (received.partition, received.offset) == (metadata.partition, metadata.offset), (received, metadata)
admin_client.close()
print("OK")
