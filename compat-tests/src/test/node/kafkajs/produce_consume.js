// kafkajs producer and consumer: keys, headers, gzip and uncompressed batches, an idempotent producer, offsets.
const { CompressionTypes } = require('kafkajs')
const { kafka, check, equal, consume, run } = require('./common')

run(async () => {
  const client = kafka('kjs-produce-consume')
  const admin = client.admin()
  await admin.connect()
  equal(await admin.createTopics({ topics: [{ topic: 'kjs-pc', numPartitions: 3 }], waitForLeaders: true }), true,
    'createTopics')
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const sent = []
  for (let i = 0; i < 30; i++) {
    const result = await producer.send({
      topic: 'kjs-pc', acks: -1, compression: i % 2 ? CompressionTypes.GZIP : CompressionTypes.None,
      messages: [{ key: 'k' + i, value: 'v' + i, headers: { n: String(i) } }]
    })
    equal(result[0].errorCode, 0, 'produce error code')
    sent.push(result[0])
  }
  const perPartition = [0, 0, 0]
  for (const r of sent) perPartition[r.partition]++
  const offsets = await admin.fetchTopicOffsets('kjs-pc')
  for (const p of offsets) equal(Number(p.high), perPartition[p.partition], 'high watermark of partition ' + p.partition)

  const consumer = client.consumer({ groupId: 'kjs-pc-group' })
  await consumer.connect()
  const seen = await consume(consumer, 'kjs-pc', 30)
  equal(seen.length, 30, 'consumed')
  for (const m of seen) {
    const n = m.key.substring(1)
    equal(m.value, 'v' + n, 'value of ' + m.key)
    equal(m.headers.n.toString(), n, 'header of ' + m.key)
  }
  // Per partition the offsets run 0, 1, 2, ... in the order produced.
  for (let p = 0; p < 3; p++) {
    const mine = seen.filter(m => m.partition === p).map(m => Number(m.offset))
    equal(mine, [...Array(perPartition[p]).keys()], 'offsets of partition ' + p)
  }
  await consumer.commitOffsets(seen.map(m => ({ topic: 'kjs-pc', partition: m.partition, offset: String(Number(m.offset) + 1) })))
  await consumer.disconnect()
  const committed = await admin.fetchOffsets({ groupId: 'kjs-pc-group', topics: ['kjs-pc'] })
  for (const p of committed[0].partitions) equal(Number(p.offset), perPartition[p.partition], 'committed ' + p.partition)

  await producer.disconnect()
  await admin.deleteTopics({ topics: ['kjs-pc'] })
  check(!(await admin.listTopics()).includes('kjs-pc'), 'topic deleted')
  await admin.disconnect()
})
