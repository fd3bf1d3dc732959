"""Topic deletion through kafka-python's admin, as against Apache Kafka 3.9 in ZooKeeper mode: delete_topics is
answered by the controller once the topic left its metadata; creating the name again is refused with
TopicAlreadyExistsError (marked for deletion) until the controller has deleted every replica, then taken, and the
new topic starts empty; a missing topic is UnknownTopicOrPartitionError. Usage: delete_topics.py BOOTSTRAP TOPIC (the
topic exists, with records). Prints what it saw; exits 0 only if all of it holds."""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = KafkaAdminClient(bootstrap_servers=[bootstrap])
response = admin.delete_topics([topic], timeout_ms=30000)
codes = [entry[1] for entry in response.topic_error_codes]
print("delete error codes=%s" % codes)
listed = topic in admin.list_topics()
print("listed after delete=%s" % listed)

refusals = 0
deadline = time.time() + 30
while True:
    try:
        admin.create_topics([NewTopic(topic, 1, 1)], timeout_ms=30000)
        break
    except TopicAlreadyExistsError:
        # Apache answers so while its controller still deletes the replicas; the name is free once it is done.
        refusals += 1
        if time.time() > deadline:
            raise SystemExit("the name was never free again")
        time.sleep(0.02)
print("created again after %d refusals" % refusals)

try:
    admin.delete_topics([topic + "-never-there"], timeout_ms=30000)
    unknown = False
except UnknownTopicOrPartitionError:
    unknown = True
print("missing topic refused=%s" % unknown)
admin.close()

consumer = KafkaConsumer(bootstrap_servers=[bootstrap])
partition = TopicPartition(topic, 0)
end = consumer.end_offsets([partition])[partition]
consumer.close()
print("end offset of the new topic=%d" % end)
sys.exit(0 if codes == [0] and not listed and unknown and end == 0 else 1)
