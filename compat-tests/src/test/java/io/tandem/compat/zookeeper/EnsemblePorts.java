package io.tandem.compat.zookeeper;

import io.tandem.server.TestPorts;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** What the ensemble compat tests share: ports for their members and a member's role as {@code srvr} reports it. */
final class EnsemblePorts {
    private EnsemblePorts() {
    }

    /**
     * A free port not handed out before in this JVM (members refuse a clash), from the server test-jar's TestPorts:
     * below the ephemeral range and in this surefire fork's own share, so the other fork's servers and outgoing
     * connections do not take it between now and the member's start.
     */
    static int freePort() throws IOException {
        return TestPorts.freePort();
    }

    /** The member's {@code Mode:} from the {@code srvr} four-letter word; "down" when it does not answer. */
    static String mode(int clientPort) {
        try (Socket socket = new Socket("127.0.0.1", clientPort)) {
            socket.setSoTimeout(2_000);
            socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.startsWith("Mode: ")) {
                    return line.substring("Mode: ".length()).trim();
                }
            }
            return "unknown";
        } catch (IOException e) {
            return "down";
        }
    }
}
