package io.tandem.server.kafka.network;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.RequestHeader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A broker played by the test on a real socket: it accepts connections, reads requests as frames and answers what
 * the test tells it to, and can stop (its port refuses connections) and start again on the same port, as a broker
 * process that restarts.
 */
public final class ScriptedBroker implements AutoCloseable {
    /** One request as the scripted broker read it. */
    public record Received(int correlationId, ApiKey key, short version, ApiMessage body) {
    }

    private final int port;
    private ServerSocket server;
    private final List<Socket> accepted = new ArrayList<>();

    public ScriptedBroker() throws IOException {
        server = listen(0);
        port = server.getLocalPort();
    }

    private static ServerSocket listen(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        return s;
    }

    public int port() {
        return port;
    }

    public InetSocketAddress address() {
        return InetSocketAddress.createUnresolved("127.0.0.1", port);
    }

    /** The next connection, waiting at most {@code timeoutMs} for it; its reads time out after that long too. */
    public synchronized Socket accept(int timeoutMs) throws IOException {
        server.setSoTimeout(timeoutMs);
        Socket s = server.accept();
        s.setSoTimeout(timeoutMs);
        accepted.add(s);
        return s;
    }

    /** The process dies: every connection and the port close. */
    public synchronized void stop() throws IOException {
        for (Socket s : accepted) s.close();
        accepted.clear();
        server.close();
    }

    /** The process starts again on the same port. */
    public synchronized void restart() throws IOException {
        server = listen(port);
    }

    @Override
    public synchronized void close() throws IOException {
        stop();
    }

    public static Received read(Socket peer) throws IOException {
        DataInputStream in = new DataInputStream(peer.getInputStream());
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        ByteBuf frame = Unpooled.wrappedBuffer(bytes);
        RequestHeader header = KafkaFrames.readRequestHeader(frame);
        ApiKey key = ApiKey.forId(header.requestApiKey);
        return new Received(header.correlationId, key, header.requestApiVersion,
                key.readRequest(frame, header.requestApiVersion));
    }

    public static void answer(Socket peer, Received request, ApiMessage response) throws IOException {
        ByteBuf frame = KafkaFrames.encodeResponse(UnpooledByteBufAllocator.DEFAULT, request.correlationId(),
                request.key(), request.version(), response);
        try {
            OutputStream out = peer.getOutputStream();
            frame.readBytes(out, frame.readableBytes());
            out.flush();
        } finally {
            frame.release();
        }
    }

    /** Reads the connection's ApiVersions and answers it as a broker serving {@code keys} (and ApiVersions). */
    public static void introduce(Socket peer, ApiKey... keys) throws IOException {
        Received hello = read(peer);
        assertEquals(ApiKey.API_VERSIONS, hello.key(), "a connection starts with ApiVersions");
        List<ApiVersionsResponse.ApiVersion> served = new ArrayList<>();
        List<ApiKey> all = new ArrayList<>(List.of(keys));
        all.add(ApiKey.API_VERSIONS);
        for (ApiKey key : all) {
            served.add(new ApiVersionsResponse.ApiVersion().setApiKey(key.id()).setMinVersion(key.minVersion())
                    .setMaxVersion(key.maxVersion()));
        }
        answer(peer, hello, new ApiVersionsResponse().setApiKeys(served));
    }
}
