package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ResponseHeader;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A blocking request/response connection to another broker, for the threads that talk to one broker at a time as
 * Kafka's do (the controller's send thread per broker, a follower's fetcher per leader): one request in flight,
 * connected lazily and again after a failure. Never used from a Netty event loop.
 */
public final class BrokerChannel implements AutoCloseable {
    /** Largest response accepted from a broker: a replica fetch answer is bounded by replica.fetch.response.max.bytes. */
    static final int RESPONSE_BYTES_MAX = 100 * 1024 * 1024;
    private final String clientId;
    private final int timeoutMs;
    private volatile InetSocketAddress address;
    private Socket socket;
    private DataInputStream in;
    private OutputStream out;
    private int correlationId;

    public BrokerChannel(String host, int port, String clientId, int timeoutMs) {
        this.address = InetSocketAddress.createUnresolved(host, port);
        this.clientId = clientId;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Points later requests at a new address (the broker registered again elsewhere). The same address, the usual
     * case, returns without waiting for the request in flight (a fetcher holds the channel for a whole long poll).
     */
    public void retarget(String host, int port) {
        if (isAt(host, port)) return;
        synchronized (this) {
            if (isAt(host, port)) return;
            address = InetSocketAddress.createUnresolved(host, port);
            disconnect();
        }
    }

    private boolean isAt(String host, int port) {
        InetSocketAddress current = address;
        return host.equals(current.getHostString()) && port == current.getPort();
    }

    /** Sends one request and waits for its answer; on any failure the connection is dropped and the error thrown. */
    public synchronized ApiMessage send(ApiKey key, short version, ApiMessage request) throws IOException {
        try {
            connect();
            int id = ++correlationId;
            ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, id, clientId, key, version, request);
            try {
                byte[] bytes = new byte[frame.readableBytes()];
                frame.readBytes(bytes);
                out.write(bytes);
                out.flush();
            } finally {
                frame.release();
            }
            int length = in.readInt();
            if (length < 0 || length > RESPONSE_BYTES_MAX) {
                throw new IOException("response of " + length + " bytes from " + address + " (max " + RESPONSE_BYTES_MAX + ")");
            }
            byte[] bytes = new byte[length];
            in.readFully(bytes);
            ByteBuf buf = Unpooled.wrappedBuffer(bytes);
            ResponseHeader header = ResponseHeader.read(buf, key.responseHeaderVersion(version));
            if (header.correlationId != id) {
                throw new IOException("correlation id " + header.correlationId + " from " + address + ", expected " + id);
            }
            return key.readResponse(buf, version);
        } catch (IOException | RuntimeException e) {
            disconnect();
            throw e instanceof IOException io ? io : new IOException("bad answer from " + address + ": " + e, e);
        }
    }

    private void connect() throws IOException {
        if (socket != null) return;
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(address.getHostString(), address.getPort()), timeoutMs);
            s.setSoTimeout(timeoutMs);
            s.setTcpNoDelay(true);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        socket = s;
        in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream(), 64 * 1024));
        out = s.getOutputStream();
    }

    private void disconnect() {
        if (socket == null) return;
        try {
            socket.close();
        } catch (IOException ignored) {
            // already broken
        }
        socket = null;
    }

    @Override
    public void close() {
        // Closing the socket from another thread unblocks a read in progress.
        Socket s = socket;
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        synchronized (this) {
            disconnect();
        }
    }
}
