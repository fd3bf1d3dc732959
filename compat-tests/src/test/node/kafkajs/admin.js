// The kafkajs admin client: cluster, partitions, configs, records deletion, offsets by timestamp, and the errors
// kafkajs turns into exceptions (an existing topic, an unknown one).
const { kafka, check, equal, run } = require('./common')

run(async () => {
  const client = kafka('kjs-admin')
  const admin = client.admin()
  await admin.connect()
  const cluster = await admin.describeCluster()
  check(cluster.brokers.length === 1 && typeof cluster.clusterId === 'string' && cluster.controller === cluster.brokers[0].nodeId,
    'describeCluster ' + JSON.stringify(cluster))
  equal(await admin.createTopics({ topics: [{ topic: 'kjs-admin', numPartitions: 1 }], validateOnly: true, waitForLeaders: false }), true,
    'validateOnly')
  check(!(await admin.listTopics()).includes('kjs-admin'), 'validateOnly created nothing')
  await admin.createTopics({ topics: [{ topic: 'kjs-admin', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
    waitForLeaders: true })
  equal(await admin.createTopics({ topics: [{ topic: 'kjs-admin', numPartitions: 1 }] }), false, 'createTopics of an existing topic')
  await admin.createPartitions({ topicPartitions: [{ topic: 'kjs-admin', count: 3 }] })
  equal((await admin.fetchTopicMetadata({ topics: ['kjs-admin'] })).topics[0].partitions.length, 3, 'partitions after createPartitions')

  const TOPIC = 2
  const described = await admin.describeConfigs({ resources: [{ type: TOPIC, name: 'kjs-admin', configNames: ['retention.ms', 'cleanup.policy'] }] })
  const entries = Object.fromEntries(described.resources[0].configEntries.map(e => [e.configName, [e.configValue, e.isDefault]]))
  equal(entries, { 'cleanup.policy': ['delete', true], 'retention.ms': ['3600000', false] }, 'describeConfigs')
  await admin.alterConfigs({ resources: [{ type: TOPIC, name: 'kjs-admin', configEntries: [{ name: 'retention.ms', value: '7200000' }] }] })
  const altered = await admin.describeConfigs({ resources: [{ type: TOPIC, name: 'kjs-admin', configNames: ['retention.ms'] }] })
  equal(altered.resources[0].configEntries[0].configValue, '7200000', 'alterConfigs')

  const producer = client.producer()
  await producer.connect()
  const before = Date.now()
  for (let i = 0; i < 10; i++) await producer.send({ topic: 'kjs-admin', messages: [{ partition: 0, value: 'r' + i, timestamp: String(before + i * 1000) }] })
  await producer.disconnect()
  const byTime = await admin.fetchTopicOffsetsByTimestamp('kjs-admin', before + 5000)
  equal(Number(byTime.find(p => p.partition === 0).offset), 5, 'offset by timestamp')
  await admin.deleteTopicRecords({ topic: 'kjs-admin', partitions: [{ partition: 0, offset: '4' }] })
  const offsets = await admin.fetchTopicOffsets('kjs-admin')
  equal([Number(offsets.find(p => p.partition === 0).low), Number(offsets.find(p => p.partition === 0).high)], [4, 10],
    'log start after deleteTopicRecords')

  // kafkajs retries UNKNOWN_TOPIC_OR_PARTITION as retriable; with the default eight retries its backoff waits out
  // about 36 s for the same answer, so this admin retries once and the check names the error.
  const once = kafka('kjs-admin-unknown', { retries: 1, initialRetryTime: 100 }).admin()
  await once.connect()
  let unknown = null
  try {
    await once.fetchTopicOffsets('kjs-no-such-topic')
  } catch (e) {
    unknown = e
  }
  await once.disconnect()
  check(unknown !== null && unknown.cause && unknown.cause.type === 'UNKNOWN_TOPIC_OR_PARTITION',
    'offsets of an unknown topic fail with UNKNOWN_TOPIC_OR_PARTITION: ' + unknown)
  await admin.deleteTopics({ topics: ['kjs-admin'] })
  await admin.disconnect()
})
