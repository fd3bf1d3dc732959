package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.SaslAuthenticateRequest;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeRequest;
import io.tandem.kafka.wire.message.SaslHandshakeResponse;
import io.tandem.kafka.wire.record.LegacyMessage;
import io.tandem.kafka.wire.record.LegacyMessageSetBuilder;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.network.FileRecords;
import io.tandem.server.kafka.security.JaasLoginModule;
import io.tandem.server.tls.TestCertificates;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many raw-protocol clients produce known payloads and fetch them back, every byte checked, to catch a pooled buffer
 * shared wrongly between threads on the Kafka side. The broker's request threads allocate and release pooled buffers
 * off the event loops: encoded responses, fetched slices copied into pooled buffers (a slice larger than
 * {@link FileRecords#ZERO_COPY_BYTES_MAX}), gathered composites of both, and zero-copy file regions, all written and
 * released on the event loops; produce requests' records are slices of the connection's read buffer, appended to the
 * log on a request thread while the event loop reads the next requests into the same buffer. A buffer released twice,
 * retained too little, written after its release or written by two threads at once shows up here as a record whose
 * bytes, offset or CRC are not the ones produced.
 *
 * <p>The paths that handle record bytes differently all run at once on one broker, each client on one of them:
 * <ul>
 * <li>listeners: PLAINTEXT (zero-copy file regions), SSL (SslHandler takes no file region: fetched slices are read
 * into the TLS connections' pooled arena buffers, encrypted and released there; requests decrypted into heap
 * buffers), SASL_PLAINTEXT and SASL_SSL with PLAIN (authenticated first; PLAIN negotiates no security layer, so after
 * authentication the bytes take the PLAINTEXT or SSL path: Tandem, as Kafka, wraps no bytes for any mechanism);</li>
 * <li>Fetch versions 0-3, which Tandem down-converts to message format v0 (Fetch 0-1) or v1 (2-3), copying the
 * slice and writing a new message set (checked message by message: CRC, magic, offsets, key, value), and 4, 7, 11
 * (non-flexible) and 12 (flexible), which are answered with the log's batches;</li>
 * <li>Produce versions 0-2 for a quarter of the batches (legacy message sets, format v0 or v1, which the broker
 * up-converts into a new batch) beside 3, 7, 8 and 9 (batches appended as sent);</li>
 * <li>pipelined requests: each client sends several batches, mostly small, to each of its partitions and a fetch
 * before reading any answer, so the broker reads the next requests into the buffer holding a produce's records while
 * a request thread appends them (the race of LogAppendFromSharedBufferTest, end to end).</li>
 * </ul>
 * Each fetch asks for every partition at a random offset below what was acknowledged, with partition limits both
 * below and above the zero-copy cap (so one answer mixes file regions and pooled copies). Rounds alternate between one
 * large segment per partition and 1 MiB segments (many segments, fetches ending at segment ends). Follower fetches
 * between brokers are ReplicaBufferSharingStressTest's.
 *
 * <p>The suite runs one short round. A long run, for a suspected corruption (the same properties size it):
 * <pre>
 * mvn -B -q -o -pl server -am test -Dtest=KafkaBufferSharingStressTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dtandem.stress.rounds=50 -Dtandem.stress.clients=12 -Dtandem.stress.partitions=24
 * </pre>
 * It prints the rounds, fetches, batches and bytes it checked. Any LEAK report of Netty's detector, paranoid for the
 * test's run ({@link LeakWatch}), fails it.
 */
class KafkaBufferSharingStressTest {
    /** Client i connects to LISTENERS[i % 4]. */
    private static final String[] LISTENERS = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    private static final int ROUNDS = Integer.getInteger("tandem.stress.rounds", 1);
    private static final int CLIENTS = Integer.getInteger("tandem.stress.clients", LISTENERS.length);
    private static final int PARTITIONS = Integer.getInteger("tandem.stress.partitions", 4);
    /** What each partition holds at the end of a round: above the zero-copy cap, so copies happen too. */
    private static final int PARTITION_BYTES = Integer.getInteger("tandem.stress.partitionBytes",
            FileRecords.ZERO_COPY_BYTES_MAX + (FileRecords.ZERO_COPY_BYTES_MAX / 4));
    /** Fetches each client makes after its partitions are full, so reads go on once writes stop. */
    private static final int FETCHES_AFTER_FULL = Integer.getInteger("tandem.stress.fetchesAfterFull", 3);
    private static final short[] FETCH_VERSIONS = {4, 7, 11, 12};
    /** The versions Tandem down-converts (to message format v0 for 0-1, v1 for 2-3), as Kafka does. */
    private static final short[] OLD_FETCH_VERSIONS = {0, 1, 2, 3};
    private static final short[] PRODUCE_VERSIONS = {3, 7, 8, 9};
    /** The versions that carry legacy message sets, which Tandem up-converts, as Kafka does. */
    private static final short[] OLD_PRODUCE_VERSIONS = {0, 1, 2};
    /** Produce requests each client sends to each of its partitions before it reads their answers. */
    private static final int PIPELINED_BATCHES = Integer.getInteger("tandem.stress.pipelinedBatches", 6);
    private static final String USER = "stress";
    private static final String PASSWORD = "stress-secret";
    private static final String TOPIC = "stress";

    @TempDir
    Path dir;

    private final BufferSharingChecks checks = new BufferSharingChecks();
    private final AtomicLong fetches = new AtomicLong();
    private final AtomicLong copiedSlices = new AtomicLong();
    private final AtomicLong convertedAnswers = new AtomicLong();
    private final AtomicLong tlsFetches = new AtomicLong();
    private final AtomicLong pipelinedProduces = new AtomicLong();
    private final AtomicLong upConvertedProduces = new AtomicLong();
    private SSLContext tls;

    @Test
    void everyFetchedByteIsTheByteProducedUnderManyConcurrentClients() throws Exception {
        long started = System.nanoTime();
        TestCertificates certificates =
                TestCertificates.serverOnly(Files.createDirectories(dir.resolve("certificates")));
        tls = TestCertificates.trustingContext(certificates.trustStore);
        double certificatesSeconds = (System.nanoTime() - started) / 1e9;
        try (LeakWatch leaks = new LeakWatch()) {
            for (int round = 0; round < ROUNDS; round++) {
                runRound(round, certificates);
            }
            leaks.assertNoLeaks();
        }
        System.out.printf("KafkaBufferSharingStressTest: %d rounds, %d clients, %d partitions of %d bytes: %d fetches"
                        + " (%d over TLS, %d down-converted answers), %d produces pipelined (%d up-converted),"
                        + " %d batches and %d legacy messages (%d bytes) checked, %d partition answers above the"
                        + " zero-copy cap, %.1f s (%.1f s making certificates)%n",
                ROUNDS, CLIENTS, PARTITIONS, PARTITION_BYTES, fetches.get(), tlsFetches.get(), convertedAnswers.get(),
                pipelinedProduces.get(), upConvertedProduces.get(), checks.batchesChecked.get(),
                checks.legacyMessagesChecked.get(), checks.bytesChecked.get(), copiedSlices.get(),
                (System.nanoTime() - started) / 1e9, certificatesSeconds);
        assertTrue(copiedSlices.get() > 0, "no fetch answered a partition above the zero-copy cap: the copy path"
                + " was not exercised");
        assertTrue(convertedAnswers.get() > 0, "no fetch was down-converted");
        assertTrue(tlsFetches.get() > 0, "no fetch went over TLS");
        assertTrue(upConvertedProduces.get() > 0, "no produce was up-converted");
    }

    private void runRound(int round, TestCertificates certificates) throws Exception {
        Path roundDir = Files.createDirectories(dir.resolve("round-" + round));
        TandemConfig config = KafkaBrokerEndToEndTest.config(roundDir)
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,"
                        + "SASL_SSL://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                        JaasLoginModule.PLAIN_LOGIN_MODULE + " required user_" + USER + "=\"" + PASSWORD + "\";")
                .set("listener.name.ssl.ssl.keystore.type", "PKCS12")
                .set("listener.name.ssl.ssl.keystore.location", certificates.serverKeyStore.toString())
                .set("listener.name.ssl.ssl.keystore.password", TestCertificates.PASSWORD)
                .set("listener.name.sasl_ssl.plain.sasl.jaas.config",
                        JaasLoginModule.PLAIN_LOGIN_MODULE + " required user_" + USER + "=\"" + PASSWORD + "\";")
                .set("listener.name.sasl_ssl.ssl.keystore.type", "PKCS12")
                .set("listener.name.sasl_ssl.ssl.keystore.location", certificates.serverKeyStore.toString())
                .set("listener.name.sasl_ssl.ssl.keystore.password", TestCertificates.PASSWORD);
        if (round % 2 == 1) config.set("log.segment.bytes", String.valueOf(1 << 20));
        try (Tandem tandem = Tandem.start(config)) {
            try (RawKafkaConnection admin = new RawKafkaConnection(tandem.kafkaPort("PLAINTEXT"))) {
                TestRequests.createTopic(admin, TOPIC, PARTITIONS);
            }
            AtomicLongArray acknowledged = new AtomicLongArray(PARTITIONS);
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    Client client = new Client(round, c, tandem, acknowledged);
                    clients.add(pool.submit(() -> {
                        client.run();
                        return null;
                    }));
                }
                for (Future<?> client : clients) client.get(10, TimeUnit.MINUTES);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** A connection on {@code listener}, TLS handshake and SASL PLAIN authentication done as the listener needs. */
    private RawKafkaConnection connect(Tandem tandem, String listener) throws IOException {
        int port = tandem.kafkaPort(listener);
        RawKafkaConnection connection;
        if (listener.endsWith("SSL")) {
            SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port);
            socket.setSoTimeout(60_000);
            socket.startHandshake();
            connection = new RawKafkaConnection((Socket) socket);
        } else {
            connection = new RawKafkaConnection(port);
        }
        if (listener.startsWith("SASL")) authenticate(connection);
        return connection;
    }

    private static void authenticate(RawKafkaConnection connection) throws IOException {
        SaslHandshakeResponse handshake = connection.roundTrip(ApiKey.SASL_HANDSHAKE, (short) 1, (short) 0,
                new SaslHandshakeRequest().setMechanism("PLAIN"), SaslHandshakeResponse::read);
        assertEquals(0, handshake.errorCode, "SASL handshake");
        byte[] token = ("\u0000" + USER + "\u0000" + PASSWORD).getBytes(StandardCharsets.UTF_8);
        short version = 2;
        SaslAuthenticateResponse answer = connection.roundTrip(ApiKey.SASL_AUTHENTICATE, version,
                ApiKey.SASL_AUTHENTICATE.responseHeaderVersion(version),
                new SaslAuthenticateRequest().setAuthBytes(token), SaslAuthenticateResponse::read);
        assertEquals(0, answer.errorCode, "SASL PLAIN authentication");
    }

    /** One connection: produces to the partitions it owns (p % CLIENTS == id) and fetches every partition. */
    private final class Client {
        private final int round;
        private final int id;
        private final Tandem tandem;
        private final String listener;
        private final AtomicLongArray acknowledged;
        private final SplittableRandom random;

        Client(int round, int id, Tandem tandem, AtomicLongArray acknowledged) {
            this.round = round;
            this.id = id;
            this.tandem = tandem;
            this.listener = LISTENERS[id % LISTENERS.length];
            this.acknowledged = acknowledged;
            this.random = new SplittableRandom(round * 1_000_003L + id);
        }

        void run() throws IOException {
            List<Integer> owned = new ArrayList<>();
            for (int p = id; p < PARTITIONS; p += CLIENTS) owned.add(p);
            long[] bytes = new long[PARTITIONS];
            int fetchesAfterFull = 0;
            try (RawKafkaConnection connection = connect(tandem, listener)) {
                connection.setTimeout(60_000);
                while (fetchesAfterFull < FETCHES_AFTER_FULL) {
                    // Two batches to each partition not full yet and a fetch go out before any answer is read: the
                    // broker reads ahead while it appends.
                    List<Produced> produced = new ArrayList<>();
                    for (int p : owned) {
                        long base = acknowledged.get(p);
                        for (int batch = 0; batch < PIPELINED_BATCHES && bytes[p] < PARTITION_BYTES; batch++) {
                            Produced sent = sendProduce(connection, p, base);
                            produced.add(sent);
                            base += sent.count;
                            bytes[p] += sent.bytes;
                            // The next request arrives while this one is appended: small requests share the read
                            // buffer (one socket read holds several), and the event loop writes the next ones into
                            // it behind a produce's records while a request thread appends them.
                            LockSupport.parkNanos(random.nextInt(200_000));
                        }
                    }
                    Fetch fetch = sendFetch(connection);
                    for (Produced sent : produced) receiveProduce(connection, sent);
                    pipelinedProduces.addAndGet(produced.size());
                    receiveFetch(connection, fetch);
                    if (produced.isEmpty()) fetchesAfterFull++;
                }
            }
        }

        private record Produced(int partition, long base, int count, int bytes, short version, int correlation) {
        }

        /** One batch of records to {@code partition} from offset {@code base}. */
        private Produced sendProduce(RawKafkaConnection connection, int partition, long base) throws IOException {
            // Mostly small batches (many requests per socket read), some up to about 870 KB: below
            // message.max.bytes (1 MiB) whatever the values' sizes.
            int count = random.nextInt(4) == 0 ? 1 + random.nextInt(70) : 1 + random.nextInt(3);
            // A quarter as old clients send them: message format v0 (Produce 0-1) or v1 (2), up-converted by the
            // broker into a new batch before it is appended.
            boolean old = random.nextInt(4) == 0;
            short version = old ? OLD_PRODUCE_VERSIONS[random.nextInt(OLD_PRODUCE_VERSIONS.length)]
                    : PRODUCE_VERSIONS[random.nextInt(PRODUCE_VERSIONS.length)];
            ByteBuf records = Unpooled.buffer();
            if (old) {
                try (LegacyMessageSetBuilder builder = LegacyMessageSetBuilder.create(records,
                        version <= 1 ? LegacyMessage.MAGIC_V0 : LegacyMessage.MAGIC_V1)) {
                    for (int i = 0; i < count; i++) {
                        builder.append(System.currentTimeMillis(), BufferSharingChecks.key(partition, base + i),
                                BufferSharingChecks.value(round, partition, base + i));
                    }
                    builder.build();
                }
                upConvertedProduces.incrementAndGet();
            } else {
                try (RecordBatchBuilder builder = RecordBatchBuilder.create(records)) {
                    for (int i = 0; i < count; i++) {
                        builder.append(System.currentTimeMillis(), BufferSharingChecks.key(partition, base + i),
                                BufferSharingChecks.value(round, partition, base + i));
                    }
                    builder.build();
                }
            }
            int size = records.readableBytes();
            ProduceRequest request = TestRequests.produce(TOPIC, records, (short) -1, 30_000);
            request.topicData.get(0).partitionData.get(0).index = partition;
            int correlation = connection.send(ApiKey.PRODUCE, version, request);
            return new Produced(partition, base, count, size, version, correlation);
        }

        private void receiveProduce(RawKafkaConnection connection, Produced sent) throws IOException {
            ProduceResponse response = connection.receive(sent.correlation,
                    ApiKey.PRODUCE.responseHeaderVersion(sent.version), sent.version, ProduceResponse::read);
            ProduceResponse.PartitionProduceResponse answer = response.responses.get(0).partitionResponses.get(0);
            assertEquals(0, answer.errorCode, "produce to partition " + sent.partition);
            assertEquals(sent.base, answer.baseOffset, "produce to partition " + sent.partition);
            acknowledged.set(sent.partition, sent.base + sent.count);
        }

        private record Fetch(long[] from, short version, int correlation) {
        }

        /** Every partition from a random acknowledged offset, limits below and above the zero-copy cap. */
        private Fetch sendFetch(RawKafkaConnection connection) throws IOException {
            FetchRequest request = new FetchRequest();
            request.replicaId = -1;
            request.maxWaitMs = 10;
            request.minBytes = 1;
            request.maxBytes = 16 << 20;
            FetchRequest.FetchTopic topic = new FetchRequest.FetchTopic();
            topic.topic = TOPIC;
            long[] from = new long[PARTITIONS];
            for (int p = 0; p < PARTITIONS; p++) {
                FetchRequest.FetchPartition partition = new FetchRequest.FetchPartition();
                partition.partition = p;
                long end = acknowledged.get(p);
                // Mostly from the start, so answers are large; sometimes from anywhere, even inside a batch.
                from[p] = random.nextInt(3) == 0 && end > 0 ? random.nextLong(end + 1) : 0;
                partition.fetchOffset = from[p];
                topic.partitions.add(partition);
            }
            request.topics.add(topic);
            // A quarter down-converted, with smaller limits: converting costs far more than sending a region.
            boolean old = random.nextInt(4) == 0;
            short version = old ? OLD_FETCH_VERSIONS[random.nextInt(OLD_FETCH_VERSIONS.length)]
                    : FETCH_VERSIONS[random.nextInt(FETCH_VERSIONS.length)];
            for (FetchRequest.FetchPartition partition : topic.partitions) {
                partition.partitionMaxBytes = old ? (random.nextBoolean() ? 64 << 10 : 512 << 10)
                        : random.nextBoolean() ? 1 << 20 : 2 * FileRecords.ZERO_COPY_BYTES_MAX;
            }
            return new Fetch(from, version, connection.send(ApiKey.FETCH, version, request));
        }

        private void receiveFetch(RawKafkaConnection connection, Fetch fetch) throws IOException {
            short version = fetch.version;
            FetchResponse response = connection.receive(fetch.correlation, ApiKey.FETCH.responseHeaderVersion(version),
                    version, FetchResponse::read);
            fetches.incrementAndGet();
            if (listener.endsWith("SSL")) tlsFetches.incrementAndGet();
            assertEquals(0, response.errorCode, "fetch v" + version);
            for (FetchResponse.FetchableTopicResponse topicAnswer : response.responses) {
                for (FetchResponse.PartitionData data : topicAnswer.partitions) {
                    int partition = data.partitionIndex;
                    String where = "fetch v" + version + " over " + listener + " of partition " + partition + " from "
                            + fetch.from[partition];
                    assertEquals(0, data.errorCode, where);
                    ByteBuf records = data.records;
                    if (records == null || !records.isReadable()) continue;
                    if (records.readableBytes() > FileRecords.ZERO_COPY_BYTES_MAX) copiedSlices.incrementAndGet();
                    if (version <= 3) {
                        convertedAnswers.incrementAndGet();
                        checks.checkLegacy(where, round, partition, fetch.from[partition],
                                version <= 1 ? LegacyMessage.MAGIC_V0 : LegacyMessage.MAGIC_V1, records);
                    } else {
                        checks.checkBatches(where, round, partition, fetch.from[partition], records);
                    }
                }
            }
        }
    }
}
