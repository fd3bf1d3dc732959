// kafkajs transactions: commit and abort seen through read_committed and read_uncommitted consumers, and
// consume-transform-produce with sendOffsets committing the input group's offsets inside the transaction.
const { kafka, check, equal, consume, run } = require('./common')

run(async () => {
  const client = kafka('kjs-txn')
  const admin = client.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'kjs-txn-in', numPartitions: 1 }, { topic: 'kjs-txn-out', numPartitions: 2 }],
    waitForLeaders: true })
  const producer = client.producer({ transactionalId: 'kjs-txn-producer', idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const committed = await producer.transaction()
  await committed.send({ topic: 'kjs-txn-in', messages: [{ key: 'a', value: 'committed-1' }, { key: 'b', value: 'committed-2' }] })
  await committed.commit()
  const aborted = await producer.transaction()
  await aborted.send({ topic: 'kjs-txn-in', messages: [{ key: 'c', value: 'aborted' }] })
  await aborted.abort()
  const last = await producer.transaction()
  await last.send({ topic: 'kjs-txn-in', messages: [{ key: 'd', value: 'committed-3' }] })
  await last.commit()

  // A 500 ms fetch wait (kafkajs' default is 5 s): disconnect waits for the fetch in flight.
  const readCommitted = client.consumer({ groupId: 'kjs-txn-rc', readUncommitted: false, maxWaitTimeInMs: 500 })
  await readCommitted.connect()
  const rc = await consume(readCommitted, 'kjs-txn-in', 3)
  await new Promise(resolve => setTimeout(resolve, 1000)) // anything more would arrive now
  equal(rc.map(m => m.value), ['committed-1', 'committed-2', 'committed-3'], 'read_committed')
  await readCommitted.disconnect()
  const readUncommitted = client.consumer({ groupId: 'kjs-txn-ru', readUncommitted: true })
  await readUncommitted.connect()
  const ru = await consume(readUncommitted, 'kjs-txn-in', 4)
  equal(ru.map(m => m.value), ['committed-1', 'committed-2', 'aborted', 'committed-3'], 'read_uncommitted')
  await readUncommitted.disconnect()

  // Consume-transform-produce: the outputs and the input offsets commit together.
  const transform = client.producer({ transactionalId: 'kjs-txn-transform', idempotent: true, maxInFlightRequests: 1 })
  await transform.connect()
  const txn = await transform.transaction()
  await txn.send({ topic: 'kjs-txn-out', messages: rc.map(m => ({ key: m.key, value: m.value.toUpperCase() })) })
  await txn.sendOffsets({ consumerGroupId: 'kjs-txn-app',
    topics: [{ topic: 'kjs-txn-in', partitions: [{ partition: 0, offset: String(Number(rc[2].offset) + 1) }] }] })
  await txn.commit()
  // EndTxn answers once the commit is decided; the markers that make the transaction's offsets visible are written
  // after it (on Apache as here), and an OffsetFetch without require_stable (kafkajs') shows -1 until then.
  let fetched = -1
  for (const deadline = Date.now() + 10000; Date.now() < deadline;) {
    const offsets = await admin.fetchOffsets({ groupId: 'kjs-txn-app', topics: ['kjs-txn-in'] })
    fetched = Number(offsets[0].partitions[0].offset)
    if (fetched !== -1) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  equal(fetched, Number(rc[2].offset) + 1, 'offsets committed with the transaction')
  const out = client.consumer({ groupId: 'kjs-txn-out-reader' })
  await out.connect()
  const outputs = await consume(out, 'kjs-txn-out', 3)
  equal(outputs.map(m => m.value).sort(), ['COMMITTED-1', 'COMMITTED-2', 'COMMITTED-3'], 'transformed')
  await out.disconnect()
  check(true, '')
  await transform.disconnect()
  await producer.disconnect()
  await admin.disconnect()
})
