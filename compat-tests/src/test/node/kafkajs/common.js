// Shared by the kafkajs scripts: the client for the bootstrap address given as the first argument, assertions that
// fail the script with a reason, and the exit protocol KafkaJsCompatTest reads (prints OK, exits 0).
const { Kafka, logLevel } = require('kafkajs')

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

function kafka (clientId, retry = { retries: 8, initialRetryTime: 100 }) {
  return new Kafka({ clientId, brokers: [process.argv[2]], logLevel: logLevel.NOTHING, retry })
}

function check (condition, message) {
  if (!condition) throw new Error('check failed: ' + message)
}

function equal (actual, expected, what) {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(what + ': expected ' + e + ', got ' + a)
}

/** Consumes until `count` messages arrived (or fails after `ms`); returns them as {partition, offset, key, value, headers}. */
async function consume (consumer, topic, count, ms = 30000) {
  const seen = []
  await consumer.subscribe({ topic, fromBeginning: true })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('only ' + seen.length + ' of ' + count + ' messages in ' + ms + ' ms')), ms)
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, offset: message.offset, key: message.key && message.key.toString(),
          value: message.value && message.value.toString(), headers: message.headers })
        if (seen.length >= count) { clearTimeout(timer); resolve() }
      }
    }).catch(reject)
  })
  return seen
}

function run (main) {
  main().then(() => { console.log('OK'); process.exit(0) },
    (e) => { console.error('FAILED', e && e.stack ? e.stack : e); process.exit(1) })
}

module.exports = { kafka, check, equal, consume, run }
