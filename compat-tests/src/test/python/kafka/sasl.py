"""kafka-python over SASL_PLAINTEXT: produce and consume as a user, and a wrong password refused.

Usage: sasl.py <bootstrap> <mechanism> <user> <password>
"""
import sys

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

bootstrap, mechanism, user, password = sys.argv[1:5]
common = dict(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
              sasl_plain_username=user, sasl_plain_password=password, request_timeout_ms=20000)

topic = "py-sasl-" + mechanism.lower()
producer = KafkaProducer(acks="all", **common)
for i in range(5):
    producer.send(topic, ("%s-%d" % (mechanism, i)).encode()).get(timeout=30)
producer.close()

# consumer_timeout_ms only ends the loop if records stop coming; the loop stops at the fifth record, and the
# consumer's position at the partitions' end proves there was no sixth (no 10 s of silence waited out for that).
consumer = KafkaConsumer(topic, group_id="py-sasl", auto_offset_reset="earliest", consumer_timeout_ms=10000, **common)
values = []
for m in consumer:
    values.append(m.value.decode())
    if len(values) == 5:
        break
assert values == ["%s-%d" % (mechanism, i) for i in range(5)], values
assigned = consumer.assignment()
ends = consumer.end_offsets(list(assigned))
assert assigned and all(consumer.position(tp) == ends[tp] for tp in assigned), (ends, [consumer.position(tp) for tp in assigned])
consumer.close()

wrong = dict(common, sasl_plain_password=password + "-wrong")
try:
    KafkaProducer(**wrong).send(topic, b"x").get(timeout=10)
    raise SystemExit("a wrong password was accepted")
except KafkaError as e:
    print("refused:", type(e).__name__, e)
print("OK")
