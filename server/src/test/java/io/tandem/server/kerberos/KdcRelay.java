package io.tandem.server.kerberos;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kerby.kerberos.kerb.KrbCodec;
import org.apache.kerby.kerberos.kerb.type.base.KrbMessage;
import org.apache.kerby.kerberos.kerb.type.base.PrincipalName;
import org.apache.kerby.kerberos.kerb.type.kdc.AsRep;
import org.apache.kerby.kerberos.kerb.type.kdc.AsReq;

/**
 * A TCP relay in front of the test KDC that counts, per client principal, the AS exchanges the KDC answered with a
 * ticket-granting ticket (an AS-REQ whose answer is an AS-REP, not the KRB-ERROR asking for pre-authentication): one
 * per Kerberos login, whoever makes it. Tests count a server's logins with it, at the KDC as a Kerberos admin would.
 *
 * <p>Kerberos over TCP (RFC 4120 7.2.2) is a 4-byte length and one message each way; the JDK sends one request per
 * connection, but the relay forwards any number in turn. A message it cannot decode is forwarded and not counted.
 */
final class KdcRelay {
    private final ServerSocket server;
    private final InetAddress kdcAddress;
    private final int kdcPort;
    private final Map<String, AtomicInteger> logins = new ConcurrentHashMap<>();

    KdcRelay(InetAddress address, int kdcPort) throws IOException {
        this.server = new ServerSocket(0, 50, address);
        this.kdcAddress = address;
        this.kdcPort = kdcPort;
        Thread accepter = new Thread(this::accept, "test-kdc-relay");
        accepter.setDaemon(true);
        accepter.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** How many AS exchanges gave {@code principal} (with its realm) a ticket-granting ticket so far. */
    int logins(String principal) {
        AtomicInteger count = logins.get(principal);
        return count == null ? 0 : count.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Thread relay = new Thread(() -> relay(client), "test-kdc-relay-connection");
                relay.setDaemon(true);
                relay.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void relay(Socket client) {
        try (client; Socket kdc = new Socket(kdcAddress, kdcPort)) {
            DataInputStream fromClient = new DataInputStream(client.getInputStream());
            DataOutputStream toClient = new DataOutputStream(client.getOutputStream());
            DataInputStream fromKdc = new DataInputStream(kdc.getInputStream());
            DataOutputStream toKdc = new DataOutputStream(kdc.getOutputStream());
            while (true) {
                byte[] request;
                try {
                    request = fromClient.readNBytes(fromClient.readInt());
                } catch (EOFException done) {
                    return;
                }
                toKdc.writeInt(request.length);
                toKdc.write(request);
                toKdc.flush();
                byte[] reply = fromKdc.readNBytes(fromKdc.readInt());
                // Counted before the client has its ticket, so a login that returned is always counted.
                count(request, reply);
                toClient.writeInt(reply.length);
                toClient.write(reply);
                toClient.flush();
            }
        } catch (IOException e) {
            // The client or the KDC went away: the client sees its connection close, as without the relay.
        }
    }

    private void count(byte[] request, byte[] reply) {
        try {
            KrbMessage asked = KrbCodec.decodeMessage(ByteBuffer.wrap(request));
            if (!(asked instanceof AsReq asReq) || asReq.getReqBody().getCname() == null) return;
            if (!(KrbCodec.decodeMessage(ByteBuffer.wrap(reply)) instanceof AsRep)) return;
            PrincipalName name = asReq.getReqBody().getCname();
            String principal = String.join("/", name.getNameStrings()) + "@" + asReq.getReqBody().getRealm();
            logins.computeIfAbsent(principal, p -> new AtomicInteger()).incrementAndGet();
        } catch (IOException | RuntimeException e) {
            // Not a message Kerby decodes: not a login to count.
        }
    }
}
