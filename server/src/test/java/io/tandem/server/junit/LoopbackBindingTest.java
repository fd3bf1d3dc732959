package io.tandem.server.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedding API's test configuration and the JUnit extension bind both listeners to 127.0.0.1 only, while
 * {@code ./tandem start} binds all interfaces as Apache does. 127.0.0.2 tells the two apart on any Linux machine: it
 * reaches a socket bound to all interfaces, never one bound to 127.0.0.1.
 */
class LoopbackBindingTest {
    private static final String OTHER_ADDRESS = "127.0.0.2";

    @RegisterExtension
    static TandemExtension node = new TandemExtension();

    @TempDir
    Path dir;

    @Test
    void shouldBindTheExtensionsNodeToLoopbackOnly(Tandem tandem) throws IOException {
        assertReachable("127.0.0.1", tandem.zookeeperPort());
        assertReachable("127.0.0.1", tandem.kafkaPort());
        assertThrows(ConnectException.class, () -> connect(OTHER_ADDRESS, tandem.zookeeperPort()));
        assertThrows(ConnectException.class, () -> connect(OTHER_ADDRESS, tandem.kafkaPort()));
        assertEquals("127.0.0.1:" + tandem.kafkaPort(), tandem.bootstrapServers());
    }

    @Test
    void shouldBindTheEmbeddingApisTestConfigurationToLoopbackOnly() throws IOException {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir))) {
            assertReachable("127.0.0.1", tandem.zookeeperPort());
            assertReachable("127.0.0.1", tandem.kafkaPort());
            assertThrows(ConnectException.class, () -> connect(OTHER_ADDRESS, tandem.zookeeperPort()));
            assertThrows(ConnectException.class, () -> connect(OTHER_ADDRESS, tandem.kafkaPort()));
        }
    }

    /** Used by MainTest for the other half: {@code ./tandem start} is reachable on 127.0.0.2 too. */
    static void assertReachable(String host, int port) throws IOException {
        try (Socket socket = connect(host, port)) {
            assertTrue(socket.isConnected());
        }
    }

    private static Socket connect(String host, int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), 5_000);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return socket;
    }
}
