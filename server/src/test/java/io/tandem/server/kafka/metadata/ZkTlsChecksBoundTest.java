package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.tls.TestCertificates;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.CreateMode;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker's TLS checks to ZooKeeper are bounded and never run on the submitting thread: with DNS stalled (the
 * lookup of the dialled host waits), a flood of connections fills the checks' threads and queue, and every handshake
 * past the bound fails with the refusal instead of running its check on a client's event loop (the old
 * CallerRunsPolicy). A connection made before the stall keeps being served; once DNS answers, every client connects.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ZkTlsChecksBoundTest {
    private static final int CLIENTS = 12;

    @TempDir
    Path dir;

    @Test
    void shouldRefuseChecksPastTheBoundAndNeverRunOneOnAnEventLoop() throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        Set<String> checkThreads = ConcurrentHashMap.newKeySet();
        CountDownLatch dnsAnswers = new CountDownLatch(1);
        AtomicBoolean dnsStalled = new AtomicBoolean();
        ZkTlsChecks checks = new ZkTlsChecks(1, 2);
        Map<String, String> settings = Map.of(ZkClientTls.ENABLE, "true",
                ZkClientTls.SOCKET, ZkClientTls.NETTY_SOCKET,
                ZkClientTls.KEYSTORE_LOCATION, certificates.clientKeyStore.toString(),
                ZkClientTls.KEYSTORE_PASSWORD, TestCertificates.PASSWORD,
                ZkClientTls.TRUSTSTORE_LOCATION, certificates.trustStore.toString(),
                ZkClientTls.TRUSTSTORE_PASSWORD, TestCertificates.PASSWORD);
        // The connection made before the stall has its own TLS context: a session it leaves in the flood's context's
        // cache would be resumed by the flood's handshakes, which then check no certificate.
        ZkClientTls tlsBefore = ZkClientTls.from(settings, new ZkTlsChecks(1, 2), host -> {
            checkThreads.add(Thread.currentThread().getName());
            return InetAddress.getByName(host);
        });
        ZkClientTls tls = ZkClientTls.from(settings, checks, host -> {
                checkThreads.add(Thread.currentThread().getName());
                try {
                    if (dnsStalled.get()) dnsAnswers.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.net.UnknownHostException("interrupted looking up " + host);
                }
                return InetAddress.getByName(host);
            });
        List<ZkClient> clients = new ArrayList<>();
        try (Tandem zookeeper = Tandem.start(BrokerZooKeeperTlsTest.secureZooKeeper(dir.resolve("zk"),
                certificates.serverKeyStore, certificates))) {
            try {
                String connect = "127.0.0.1:" + zookeeper.zookeeperSecurePort();
                ZkClient before = client(connect, tlsBefore);
                clients.add(before);
                before.connected().get(30, TimeUnit.SECONDS);
                before.create("/served", "yes".getBytes(StandardCharsets.UTF_8), Acls.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT).get(30, TimeUnit.SECONDS);

                dnsStalled.set(true);
                List<ZkClient> flood = new ArrayList<>();
                for (int i = 0; i < CLIENTS; i++) flood.add(client(connect, tls));
                clients.addAll(flood);
                // One check waits on DNS, two wait for its thread; every other handshake is refused at once.
                waitFor(() -> checks.refused() >= CLIENTS - 3, () -> "refused " + checks.refused());
                waitFor(() -> flood.stream().anyMatch(c -> String.valueOf(c.lastConnectFailure())
                        .contains("TLS checks of connections to ZooKeeper are full")), () -> failures(flood));
                assertTrue(flood.stream().noneMatch(c -> c.connected().isDone()), failures(flood));
                // Nothing waits on an event loop: the connection made before the stall is still served.
                assertArrayEquals("yes".getBytes(StandardCharsets.UTF_8),
                        before.getData("/served", false).get(10, TimeUnit.SECONDS).data());

                dnsAnswers.countDown();
                for (ZkClient client : flood) client.connected().get(60, TimeUnit.SECONDS);
                for (ZkClient client : flood) client.exists("/served", false).get(10, TimeUnit.SECONDS);
                assertFalse(checkThreads.isEmpty());
                for (String thread : checkThreads) {
                    assertTrue(thread.startsWith(ZkTlsChecks.THREAD_NAME), "a check ran on " + thread + ": "
                            + checkThreads);
                }
            } finally {
                dnsAnswers.countDown();
                // Before the server closes: a session closed against a live server ends at once.
                for (ZkClient client : clients) client.close();
            }
        }
    }

    private static ZkClient client(String connect, ZkClientTls tls) {
        return ZkClient.builder(connect).sessionTimeout(Duration.ofSeconds(30)).tls(tls.engines()).build();
    }

    private static String failures(List<ZkClient> clients) {
        return clients.stream().map(ZkClient::lastConnectFailure).toList().toString();
    }

    private static void waitFor(BooleanSupplier condition, java.util.function.Supplier<String> what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what.get());
            Thread.sleep(20);
        }
    }
}
