package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.tls.TestCertificates;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker that cannot reach ZooKeeper over TLS names what the server said, even when a later attempt was cut by the
 * client's own clock: a loaded CI run reported "StacklessClosedChannelException" (the attempt in progress when the
 * connection timeout closed the handle) instead of the protocol_version alert Apache's server had sent before.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZooKeeperTlsFailureReasonTest {
    /** A TLS 1.2 record: alert, fatal (2), protocol_version (70), what a server refusing the offered protocol sends. */
    private static final byte[] PROTOCOL_VERSION_ALERT = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46};

    @TempDir
    Path dir;

    @Test
    void shouldReportTheServersAlertNotTheAttemptItsOwnTimeoutCut() throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        AtomicInteger connections = new AtomicInteger();
        List<Socket> held = new ArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        Socket socket = server.accept();
                        if (connections.incrementAndGet() == 1) {
                            // The first attempt is refused with an alert; every later one hears nothing, so the
                            // client's own per-attempt time (the session timeout, one host) cuts it.
                            OutputStream out = socket.getOutputStream();
                            out.write(PROTOCOL_VERSION_ALERT);
                            out.flush();
                            socket.close();
                        } else {
                            synchronized (held) {
                                held.add(socket);
                            }
                        }
                    }
                } catch (Exception closed) {
                    // the server socket closed: the test is over
                }
            }, "silent-zookeeper");
            acceptor.setDaemon(true);
            acceptor.start();

            Exception e = assertThrows(Exception.class, () -> Tandem.start(BrokerZooKeeperTlsTest.tlsBroker(
                    dir.resolve("kafka"), server.getLocalPort(), certificates.trustStore, certificates)
                    .set("zookeeper.session.timeout.ms", "1000")).close());
            String why = String.valueOf(e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
            assertTrue(connections.get() >= 2, "an attempt after the alert was made and cut: " + connections.get());
            assertTrue(why.contains("TLS handshake with") && why.contains("protocol_version"), why);
        } finally {
            synchronized (held) {
                for (Socket socket : held) socket.close();
            }
        }
    }
}
