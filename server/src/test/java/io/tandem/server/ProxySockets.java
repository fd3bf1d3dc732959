package io.tandem.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * What the tests' TCP proxies share (the server's {@link HoldingProxy}, compat-tests' TcpProxy): daemon threads, a
 * one-direction pump that ends both sockets when either side goes away, and closing a socket that may be closed
 * already. Each proxy keeps its own fault model (holding requests, cutting connections) around these.
 */
public final class ProxySockets {
    private ProxySockets() {
    }

    /** Called with each chunk read before it is forwarded; may wait (holding it back) until interrupted. */
    @FunctionalInterface
    public interface BeforeForward {
        BeforeForward NONE = bytes -> { };

        void chunkRead(int bytes) throws InterruptedException;
    }

    /** Runs {@code body} on a new daemon thread, so a test's proxy never keeps the JVM alive. */
    public static void startDaemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Copies what {@code from} sends to {@code to} until either side closes or fails, then closes both, so the end of
     * one direction (a cut, a peer's close) reaches the other end too. Runs on the calling thread.
     */
    public static void pump(Socket from, Socket to, int bufferBytes, BeforeForward beforeForward) {
        byte[] buffer = new byte[bufferBytes];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                beforeForward.chunkRead(n);
                out.write(buffer, 0, n); // fails if the connection was closed meanwhile: nothing held is sent
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // Either side went away: so does this direction.
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    public static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Already closed.
        }
    }
}
