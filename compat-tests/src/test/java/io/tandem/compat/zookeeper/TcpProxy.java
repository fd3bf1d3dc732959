package io.tandem.compat.zookeeper;

import static io.tandem.server.ProxySockets.closeQuietly;
import static io.tandem.server.ProxySockets.startDaemon;

import io.tandem.server.ProxySockets;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP forwarder between one client and the target, so a test can cut a client's connection (and refuse its
 * reconnects for a while) without touching the server: the way to provoke a real disconnect and reconnect.
 */
final class TcpProxy implements AutoCloseable {
    private static final int BUFFER_BYTES = 64 * 1024;
    private final ServerSocket listener;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile boolean accepting = true;
    private volatile boolean closed;

    TcpProxy(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        startDaemon("tcp-proxy-accept", this::acceptLoop);
    }

    String connectString() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    /** Closes every forwarded connection and, until {@link #resume()}, closes new ones at once. */
    void cut() {
        accepting = false;
        for (Socket socket : open) {
            closeQuietly(socket);
        }
        open.clear();
    }

    void resume() {
        accepting = true;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                if (!accepting) {
                    closeQuietly(client);
                    continue;
                }
                Socket server = new Socket(targetHost, targetPort);
                open.add(client);
                open.add(server);
                startDaemon("tcp-proxy-pump", () -> ProxySockets.pump(client, server, BUFFER_BYTES,
                        ProxySockets.BeforeForward.NONE));
                startDaemon("tcp-proxy-pump", () -> ProxySockets.pump(server, client, BUFFER_BYTES,
                        ProxySockets.BeforeForward.NONE));
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        cut();
        listener.close();
    }
}
