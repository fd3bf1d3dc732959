"""Topic configs through kafka-python's admin: the legacy AlterConfigs API (which replaces the topic's whole set of
overrides) and DescribeConfigs. Usage: admin_configs.py BOOTSTRAP TOPIC (the topic exists with retention.ms=123456).
Prints the values read back; exits 0 only if they are what Apache Kafka answers."""
import sys

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = KafkaAdminClient(bootstrap_servers=[bootstrap])


def describe():
    response = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])[0]
    (error_code, error_message, resource_type, resource_name, entries) = response.resources[0]
    if error_code != 0:
        raise SystemExit("describe_configs error %d %s" % (error_code, error_message))
    return {entry[0]: entry[1] for entry in entries}


before = describe()
print("before retention.ms=%s max.message.bytes=%s" % (before["retention.ms"], before["max.message.bytes"]))
response = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": "4000"})])
codes = [r[0] for r in response.resources]
print("alter error codes=%s" % codes)
after = describe()
print("after retention.ms=%s max.message.bytes=%s" % (after["retention.ms"], after["max.message.bytes"]))
admin.close()
# Legacy AlterConfigs sets the complete override set: retention.ms, not named, returns to the broker default.
ok = (before["retention.ms"] == "123456" and codes == [0] and after["max.message.bytes"] == "4000"
      and after["retention.ms"] == "604800000")
sys.exit(0 if ok else 1)
