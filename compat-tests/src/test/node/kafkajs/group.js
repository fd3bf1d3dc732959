// A kafkajs consumer group: two members split a 4-partition topic, the survivor takes everything when one leaves,
// and the admin client lists, describes, resets and deletes the group.
const { kafka, check, equal, run } = require('./common')

run(async () => {
  const client = kafka('kjs-group')
  const admin = client.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'kjs-group-topic', numPartitions: 4 }], waitForLeaders: true })
  const producer = client.producer()
  await producer.connect()
  await producer.send({ topic: 'kjs-group-topic', messages: [...Array(40).keys()].map(i => ({ key: 'k' + i, value: 'm' + i })) })

  const received = new Map()
  const assigned = {}
  // kafkajs heartbeats, and so learns of a rebalance, between fetches, and disconnect waits for the fetch in flight:
  // a 500 ms fetch wait instead of its default 5 s keeps each rebalance and leave from waiting out a long poll.
  const members = ['a', 'b'].map(name => {
    const consumer = client.consumer({ groupId: 'kjs-group', heartbeatInterval: 500, sessionTimeout: 10000,
      maxWaitTimeInMs: 500 })
    consumer.on(consumer.events.GROUP_JOIN, e => { assigned[name] = e.payload.memberAssignment['kjs-group-topic'] || [] })
    return { name, consumer }
  })
  for (const { name, consumer } of members) {
    await consumer.connect()
    await consumer.subscribe({ topic: 'kjs-group-topic', fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => {
      const value = message.value.toString()
      check(!received.has(value), 'duplicate ' + value)
      received.set(value, name)
    } })
  }
  const deadline = Date.now() + 60000
  while (Date.now() < deadline) {
    if (received.size === 40 && assigned.a && assigned.b && assigned.a.length === 2 && assigned.b.length === 2) break
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  equal(received.size, 40, 'messages received')
  equal([...assigned.a, ...assigned.b].sort(), [0, 1, 2, 3], 'partitions split between the members')

  const described = (await admin.describeGroups(['kjs-group'])).groups[0]
  equal([described.state, described.protocolType, described.protocol, described.members.length],
    ['Stable', 'consumer', 'RoundRobinAssigner', 2], 'describeGroups')
  check((await admin.listGroups()).groups.some(g => g.groupId === 'kjs-group' && g.protocolType === 'consumer'), 'listGroups')

  await members[1].consumer.disconnect()
  while (Date.now() < deadline && (assigned.a || []).length !== 4) await new Promise(resolve => setTimeout(resolve, 200))
  equal(assigned.a.sort(), [0, 1, 2, 3], 'the survivor took every partition')
  await members[0].consumer.disconnect()

  // kafkajs commits -2 ("earliest") as the offset itself, as the broker stores whatever offset is committed; with
  // resolveOffsets it turns that into the log start offset.
  await admin.resetOffsets({ groupId: 'kjs-group', topic: 'kjs-group-topic', earliest: true })
  const offsets = await admin.fetchOffsets({ groupId: 'kjs-group', topics: ['kjs-group-topic'] })
  equal(offsets[0].partitions.map(p => Number(p.offset)), [-2, -2, -2, -2], 'offsets reset to "earliest"')
  const resolved = await admin.fetchOffsets({ groupId: 'kjs-group', topics: ['kjs-group-topic'], resolveOffsets: true })
  equal(resolved[0].partitions.map(p => Number(p.offset)), [0, 0, 0, 0], 'offsets resolved to the log start')
  const deleted = await admin.deleteGroups(['kjs-group'])
  equal(deleted.map(d => [d.groupId, d.errorCode]), [['kjs-group', 0]], 'deleteGroups')
  check(!(await admin.listGroups()).groups.some(g => g.groupId === 'kjs-group'), 'group gone')
  await producer.disconnect()
  await admin.disconnect()
})
