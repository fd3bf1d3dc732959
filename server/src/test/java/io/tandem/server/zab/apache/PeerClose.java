package io.tandem.server.zab.apache;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;

/** Whether the server at the far end of a test's raw socket closed it: the refusal the quorum ports answer with. */
final class PeerClose {
    private PeerClose() {
    }

    /** True once the peer closed the connection (EOF or reset) within {@code timeoutMs}; false if it stayed open. */
    static boolean within(Socket socket, int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        try {
            return socket.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }
}
