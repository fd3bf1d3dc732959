"""The seed snippet of the article the project grew from (kafka-python 2.0.2): create my_topic with 3 partitions through
KafkaAdminClient, send b"hello world", consume it. Usage: seed_snippet.py BOOTSTRAP. Prints one line per step;
exit code 0 only if every step did what the snippet expects."""
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

bootstrap = sys.argv[1]

admin_client = KafkaAdminClient(bootstrap_servers=[bootstrap])
admin_client.create_topics(new_topics=[NewTopic(name="my_topic", num_partitions=3, replication_factor=1)])
partitions = admin_client.describe_topics(["my_topic"])[0]["partitions"]
print("created my_topic partitions=%d" % len(partitions))
admin_client.close()

producer = KafkaProducer(bootstrap_servers=[bootstrap])
# The snippet's consumer starts after the send, so it must read from the beginning to see the message.
consumer = KafkaConsumer("my_topic", bootstrap_servers=[bootstrap], auto_offset_reset="earliest",
                         consumer_timeout_ms=30000)

metadata = producer.send("my_topic", b"hello world").get(timeout=30)
print("sent partition=%d offset=%d" % (metadata.partition, metadata.offset))
producer.close()

for message in consumer:
    print("received %r partition=%d offset=%d" % (message.value, message.partition, message.offset))
    if message.value == b"hello world":
        consumer.close()
        sys.exit(0)
print("hello world never arrived", file=sys.stderr)
sys.exit(1)
