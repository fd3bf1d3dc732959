package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
import io.tandem.server.tls.TestCertificates;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The negative suite's fuzzing (issue 11): fuzzed SASL exchanges on a SASL_PLAINTEXT listener and fuzzed TLS
 * ClientHellos on an SSL listener close only their own connection while an authenticated client keeps being served.
 * Each run prints its seed; {@code -Dfuzz.seed=N} replays one.
 */
class HandshakeFuzzTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static Path clientTrust;

    @BeforeAll
    static void start() throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        clientTrust = certificates.trustStore;
        tandem = Tandem.start(SecurityTestBrokers.withSsl(SecurityTestBrokers.plain(dir.resolve("node"),
                "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0"), certificates));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static KafkaTestConnection sasl() throws IOException {
        return new KafkaTestConnection(tandem.kafkaPort("SASL_PLAINTEXT"), "handshake-fuzz");
    }

    @Test
    void shouldCloseOnlyAFuzzedSaslExchangeWhileAnotherClientKeepsWorking() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        System.out.println("fuzz seed " + seed + " (replay with -Dfuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        try (KafkaTestConnection bystander = sasl()) {
            bystander.call(ApiKeys.API_VERSIONS, (short) 0, new ApiVersionsRequestData());
            bystander.authenticate(SecurityTestBrokers.USER, SecurityTestBrokers.PASSWORD);
            for (int round = 0; round < 40; round++) {
                try (KafkaTestConnection c = sasl()) {
                    byte[] noise = new byte[random.nextInt(300)];
                    random.nextBytes(noise);
                    switch (round % 4) {
                        case 0 -> { // a frame of noise where the first request should be
                            c.out.writeInt(noise.length);
                            c.out.write(noise);
                        }
                        case 1 -> { // a handshake naming noise as its mechanism
                            c.send(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData()
                                    .setMechanism(new String(noise, StandardCharsets.ISO_8859_1)));
                        }
                        case 2 -> { // noise as the PLAIN token
                            c.send(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"));
                            c.receive();
                            c.send(ApiKeys.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequestData()
                                    .setAuthBytes(noise));
                        }
                        default -> { // noise as a raw v0 token, with a length prefix that may lie
                            c.send(ApiKeys.SASL_HANDSHAKE, (short) 0, new SaslHandshakeRequestData().setMechanism("PLAIN"));
                            c.receive();
                            // A lie is negative or over a GiB: a length the broker may take would rightly leave it
                            // waiting for the rest.
                            c.out.writeInt(random.nextBoolean() ? noise.length : random.nextBoolean()
                                    ? -1 - random.nextInt(1 << 30) : (1 << 30) + random.nextInt(1 << 30));
                            c.out.write(noise);
                        }
                    }
                    c.out.flush();
                    assertTrue(closesAfterAnyAnswers(c), "seed " + seed + " round " + round + ": connection left open");
                } catch (SocketException reset) {
                    // the broker closed while the noise was still being written: closed, as it should be
                }
                assertNotNull(bystander.call(ApiKeys.METADATA, (short) 12,
                        new org.apache.kafka.common.message.MetadataRequestData().setTopics(null)),
                        "seed " + seed + " round " + round + ": the other client is still served");
            }
        }
    }

    /** Reads whatever the broker answers (at most a few frames) until it closes; false if it stays open. */
    private static boolean closesAfterAnyAnswers(KafkaTestConnection c) throws IOException {
        c.socket.setSoTimeout(10_000);
        try {
            byte[] buffer = new byte[4096];
            for (int read = 0; read < 64 * 1024; ) {
                int n = c.in.read(buffer);
                if (n < 0) return true;
                read += n;
            }
            return false;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (SocketException reset) {
            return true;
        }
    }

    @Test
    void shouldCloseOnlyAFuzzedTlsClientHelloWhileAnotherClientKeepsWorking() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        System.out.println("fuzz seed " + seed + " (replay with -Dfuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        SSLContext context = trustingContext();
        byte[] hello = clientHello(context);
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", tandem.kafkaPort("SSL"));
        try (KafkaTestConnection bystander = new KafkaTestConnection(tls, "bystander")) {
            tls.startHandshake();
            for (int round = 0; round < 30; round++) {
                byte[] fuzzed = Arrays.copyOf(hello, hello.length);
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    // The record's type and version (bytes 0-2) sometimes, mostly the ClientHello itself; never the
                    // record length (3-4) nor the handshake message's length (6-8): a longer one would rightly leave
                    // the broker waiting for the rest (seed 50301863522133 round 12 grew byte 8).
                    int at = random.nextInt(10) == 0 ? random.nextInt(3) : random.nextInt(20) == 0 ? 5
                            : 9 + random.nextInt(fuzzed.length - 9);
                    fuzzed[at] = (byte) random.nextInt(256);
                }
                boolean cut = round % 5 == 4;
                if (cut) fuzzed = Arrays.copyOf(fuzzed, random.nextInt(fuzzed.length));
                String why = "seed " + seed + " round " + round;
                try (Socket raw = new Socket("127.0.0.1", tandem.kafkaPort("SSL"))) {
                    raw.getOutputStream().write(fuzzed);
                    raw.getOutputStream().flush();
                    if (cut) raw.shutdownOutput(); // a hello cut short: the client is gone
                    assertTrue(closesOrGoesOnWithTheHandshake(raw), why + ": left open on a broken hello");
                } catch (SocketException reset) {
                    // closed while writing: closed, as it should be
                }
                assertNotNull(bystander.call(ApiKeys.API_VERSIONS, (short) 0, new ApiVersionsRequestData()),
                        why + ": the other client is still served");
            }
        }
    }

    /**
     * True when the broker closes the connection, or answers with a TLS handshake record (a mutation TLS lets a server
     * go on with, e.g. in the client's random); false when it stays open and silent, or answers anything else.
     */
    private static boolean closesOrGoesOnWithTheHandshake(Socket raw) throws IOException {
        raw.setSoTimeout(5_000);
        InputStream in = raw.getInputStream();
        try {
            int first = in.read();
            if (first < 0) return true;
            if (first == 21) return in.readAllBytes().length >= 0; // an alert: the connection then ends
            return first == 22;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (SocketException reset) {
            return true;
        }
    }

    private static SSLContext trustingContext() throws Exception {
        return TestCertificates.trustingContext(clientTrust);
    }

    /** A real ClientHello record, as the JDK's client writes it first. */
    private static byte[] clientHello(SSLContext context) throws Exception {
        SSLEngine engine = context.createSSLEngine("127.0.0.1", tandem.kafkaPort("SSL"));
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        SSLEngineResult result = engine.wrap(ByteBuffer.allocate(0), out);
        assertEquals(SSLEngineResult.Status.OK, result.getStatus());
        out.flip();
        byte[] hello = new byte[out.remaining()];
        out.get(hello);
        assertEquals(22, hello[0], "a handshake record");
        assertFalse(hello.length < 50, "a whole ClientHello");
        return hello;
    }
}
