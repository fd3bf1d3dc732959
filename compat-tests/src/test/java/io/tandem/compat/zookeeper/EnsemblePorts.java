package io.tandem.compat.zookeeper;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** What the ensemble compat tests share: ports for their members and a member's role as {@code srvr} reports it. */
final class EnsemblePorts {
    /** Ports already given to a member in this JVM: the OS may offer a just-closed port again, and members refuse a clash. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private EnsemblePorts() {
    }

    /** A free port never handed out before in this JVM. */
    static int freePort() throws IOException {
        while (true) {
            try (ServerSocket socket = new ServerSocket(0)) {
                if (HANDED_OUT.add(socket.getLocalPort())) {
                    return socket.getLocalPort();
                }
            }
        }
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
