package io.tandem.server;

import static io.tandem.server.ProxySockets.closeQuietly;
import static io.tandem.server.ProxySockets.startDaemon;

import java.io.IOException;
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
    private static final String THREAD_NAME = "holding-proxy";
    private static final int BUFFER_BYTES = 16 * 1024;
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final int targetPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private volatile boolean holding;
    private volatile long held;

    public HoldingProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        startDaemon(THREAD_NAME, this::accept);
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
                startDaemon(THREAD_NAME, () -> ProxySockets.pump(client, target, BUFFER_BYTES, this::holdIfAsked));
                startDaemon(THREAD_NAME, () -> ProxySockets.pump(target, client, BUFFER_BYTES,
                        ProxySockets.BeforeForward.NONE));
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** What a client sent waits here while the proxy holds. */
    private void holdIfAsked(int bytes) throws InterruptedException {
        if (holding) {
            held += bytes;
            synchronized (gate) {
                while (holding) gate.wait();
            }
        }
    }

    @Override
    public void close() throws IOException {
        release();
        server.close();
        for (Socket socket : open) closeQuietly(socket);
    }
}
