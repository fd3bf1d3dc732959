package io.tandem.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of one port that forwards both ways until told to hold what clients send (answers and events
 * still flow back); held requests are then either forwarded ({@link #release}) or lost with their connections
 * ({@link #dropConnectionsAndRelease}), as a request stuck in a slow or failing network would be.
 */
public final class HoldingProxy implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final int targetPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private volatile boolean holding;
    private volatile long held;

    public HoldingProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        start(this::accept);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** From now on what clients send waits in the proxy. */
    public void hold() {
        held = 0;
        holding = true;
    }

    /** Bytes clients sent since {@link #hold}: at least the first read that was held. */
    public long heldBytes() {
        return held;
    }

    /** Forwards what was held and everything after it. */
    public void release() {
        synchronized (gate) {
            holding = false;
            gate.notifyAll();
        }
    }

    /** Closes every connection, so nothing held reaches the target; new connections are forwarded. */
    public void dropConnectionsAndRelease() {
        for (Socket socket : open) closeQuietly(socket);
        open.clear();
        release();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                open.add(client);
                open.add(target);
                start(() -> pump(client, target, true));
                start(() -> pump(target, client, false));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean fromClient) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (fromClient && holding) {
                    held += n;
                    synchronized (gate) {
                        while (holding) gate.wait();
                    }
                }
                out.write(buffer, 0, n); // fails if the connection was dropped meanwhile: nothing held is sent
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // Either side went away: so does this direction.
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void start(Runnable body) {
        Thread thread = new Thread(body, "holding-proxy");
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Already closed.
        }
    }

    @Override
    public void close() throws IOException {
        release();
        server.close();
        for (Socket socket : open) closeQuietly(socket);
    }
}
