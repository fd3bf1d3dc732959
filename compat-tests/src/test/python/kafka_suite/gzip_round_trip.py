"""kafka-python 2.0.2 produces gzip-compressed, keyed records with headers and reads them back by assignment.
Usage: gzip_round_trip.py BOOTSTRAP TOPIC COUNT. Prints "sent N" and "read N ok"; exit 0 only if every record
(key, value, headers, offset) came back as sent."""
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

producer = KafkaProducer(bootstrap_servers=[bootstrap], compression_type="gzip", linger_ms=20, acks="all")
futures = [producer.send(topic, key=b"k%d" % i, value=(u"v%d \u00fc\u2713 " % i).encode("utf-8") * 20,
                         headers=[("h", b"%d" % i), ("empty", b"")], partition=0)
           for i in range(count)]
offsets = [f.get(timeout=30).offset for f in futures]
producer.close()
print("sent %d offsets %d..%d" % (count, offsets[0], offsets[-1]))
if offsets != list(range(count)):
    print("offsets not consecutive from 0: %s" % offsets, file=sys.stderr)
    sys.exit(1)

consumer = KafkaConsumer(bootstrap_servers=[bootstrap], enable_auto_commit=False, consumer_timeout_ms=30000)
tp = TopicPartition(topic, 0)
consumer.assign([tp])
consumer.seek_to_beginning(tp)
got = []
for message in consumer:
    got.append(message)
    if len(got) == count:
        break
consumer.close()
bad = [m.offset for i, m in enumerate(got)
       if m.offset != i or m.key != b"k%d" % i or m.value != (u"v%d \u00fc\u2713 " % i).encode("utf-8") * 20
       or list(m.headers) != [("h", b"%d" % i), ("empty", b"")]]
print("read %d %s" % (len(got), "ok" if not bad and len(got) == count else "mismatch at %s" % bad[:5]))
sys.exit(0 if not bad and len(got) == count else 1)
