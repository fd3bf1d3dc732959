package io.tandem.server.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.RequestHeader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of one Kafka broker (the broker advertises the proxy's port, so every client, the controller
 * and every follower reach it through here) that can cut one follower's replication links and only those: it reads
 * the request frames going to the broker, and a connection that sends a Fetch whose replica id is a cut broker is
 * closed before that Fetch is forwarded, as is every such connection open when the cut begins. Clients, the
 * controller and the other followers keep their links, so the follower is cut off exactly as a partition between it
 * and the leader would, while its ZooKeeper session lives on.
 */
public final class ReplicaLinkProxy implements AutoCloseable {
    /** A request frame larger than this is not a test's; the proxy refuses to buffer it. */
    private static final int FRAME_BYTES_MAX = 100 * 1024 * 1024;

    private final ServerSocket server;
    private final int targetPort;
    private final Set<Integer> cutReplicas = ConcurrentHashMap.newKeySet();
    /** Open client-side sockets, with the replica id their Fetches carried (-1 until one was seen). */
    private final Map<Socket, Integer> replicaOf = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public ReplicaLinkProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "replica-link-proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Closes broker {@code replica}'s fetch connections through this proxy and refuses its next ones. */
    public void cutReplica(int replica) {
        cutReplicas.add(replica);
        replicaOf.forEach((socket, id) -> {
            if (id == replica) closeQuietly(socket);
        });
    }

    public void healReplica(int replica) {
        cutReplicas.remove(replica);
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket target;
                try {
                    target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                } catch (IOException e) {
                    closeQuietly(client); // the broker is down: so is the proxied port
                    continue;
                }
                replicaOf.put(client, -1);
                start("proxy-requests", () -> forwardRequests(client, target));
                start("proxy-responses", () -> pump(target, client));
            } catch (IOException e) {
                if (closed) return;
            }
        }
    }

    private void forwardRequests(Socket client, Socket target) {
        try (DataInputStream in = new DataInputStream(client.getInputStream());
             DataOutputStream out = new DataOutputStream(target.getOutputStream())) {
            while (true) {
                int length = in.readInt();
                if (length < 0 || length > FRAME_BYTES_MAX) return;
                byte[] frame = new byte[length];
                in.readFully(frame);
                int replica = fetchReplicaId(frame);
                if (replica >= 0) {
                    replicaOf.put(client, replica);
                    if (cutReplicas.contains(replica)) return;
                }
                out.writeInt(length);
                out.write(frame);
                out.flush();
            }
        } catch (IOException e) {
            // either side went away, or the link was cut
        } finally {
            closeQuietly(client);
            closeQuietly(target);
            replicaOf.remove(client);
        }
    }

    /**
     * The replica id of a Fetch request frame (a follower's broker id), or -1 for anything else, including a frame
     * the proxy cannot read: the broker judges those, the proxy passes them on.
     */
    private static int fetchReplicaId(byte[] frame) {
        try {
            ByteBuf buf = Unpooled.wrappedBuffer(frame);
            RequestHeader header = KafkaFrames.readRequestHeader(buf);
            if (header.requestApiKey != ApiKey.FETCH.id()) return -1;
            FetchRequest fetch = FetchRequest.read(buf, header.requestApiVersion);
            // v15+ moved the replica id into the ReplicaState tagged field.
            return header.requestApiVersion >= 15 ? fetch.replicaState.replicaId : fetch.replicaId;
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                out.write(buffer, 0, read);
            }
        } catch (IOException e) {
            // either side went away, or the link was cut
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void start(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        replicaOf.keySet().forEach(ReplicaLinkProxy::closeQuietly);
    }
}
