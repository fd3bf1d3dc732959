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

consumer = KafkaConsumer(topic, group_id="py-sasl", auto_offset_reset="earliest", consumer_timeout_ms=10000, **common)
values = [m.value.decode() for m in consumer]
consumer.close()
assert values == ["%s-%d" % (mechanism, i) for i in range(5)], values

wrong = dict(common, sasl_plain_password=password + "-wrong")
try:
    KafkaProducer(**wrong).send(topic, b"x").get(timeout=10)
    raise SystemExit("a wrong password was accepted")
except KafkaError as e:
    print("refused:", type(e).__name__, e)
print("OK")
