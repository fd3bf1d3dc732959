package io.tandem.server.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.http.HttpEndpoint;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that stops closes every client connection on both ports, including those that connected the instant before:
 * a client must see the disconnect and go elsewhere, not wait out its request timeout on a socket nobody reads (a
 * Kafka Admin call hung for 60 s that way in CI). Connecting just before the close is the racy case, so it is tried
 * on several stops; before AcceptedChannels about one connection in three stayed open.
 */
class ListenerCloseTest {
    private static final int STOPS = 8;
    private static final int CONNECTIONS_PER_PORT = 3;

    @TempDir
    Path dir;

    @Test
    void shouldCloseEveryConnectionOnBothPortsWhenTheNodeStops() throws Exception {
        for (int stop = 0; stop < STOPS; stop++) {
            Tandem node = Tandem.start(TandemConfig.forTests(dir.resolve("node" + stop)));
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < CONNECTIONS_PER_PORT; i++) {
                    sockets.add(new Socket("127.0.0.1", node.kafkaPort()));
                    sockets.add(new Socket("127.0.0.1", node.zookeeperPort()));
                }
            } finally {
                node.close();
            }
            assertAllClosed(stop, sockets);
        }
    }

    /** The HTTP endpoints (metrics, console, fault injection, ZooKeeper's AdminServer): the same holds. */
    @Test
    void shouldCloseEveryHttpConnectionWhenTheEndpointStops() throws Exception {
        for (int stop = 0; stop < STOPS; stop++) {
            HttpEndpoint endpoint = HttpEndpoint.start("test", "127.0.0.1", 0);
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < CONNECTIONS_PER_PORT; i++) {
                    sockets.add(new Socket("127.0.0.1", endpoint.port()));
                }
            } finally {
                endpoint.close();
            }
            assertAllClosed(stop, sockets);
        }
    }

    private static void assertAllClosed(int stop, List<Socket> sockets) throws IOException {
        for (Socket socket : sockets) {
            try (socket) {
                socket.setSoTimeout(3_000);
                assertEquals(-1, socket.getInputStream().read(), "nothing was sent, so the next read is the end");
            } catch (SocketTimeoutException e) {
                fail("stop " + stop + ": the connection to port " + socket.getPort() + " stayed open after the stop");
            } catch (IOException reset) {
                // A reset is a close too.
            }
        }
    }
}
