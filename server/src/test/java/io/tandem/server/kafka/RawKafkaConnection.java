package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.ResponseHeader;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A blocking client connection to a broker that speaks kafka-wire frames: for tests over real sockets. */
public final class RawKafkaConnection implements AutoCloseable {
    public final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int correlationId;

    public RawKafkaConnection(int port) throws IOException {
        this(new Socket("127.0.0.1", port));
    }

    /** Over a socket already connected (a TLS one, say). */
    public RawKafkaConnection(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true); // a request goes out when sent, not when the next one fills a segment
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** The request as bytes on the wire, length prefix included, with the next correlation id. */
    public byte[] encode(ApiKey key, short version, ApiMessage body) {
        ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, ++correlationId, "test", key, version, body);
        try {
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            return bytes;
        } finally {
            frame.release();
        }
    }

    public int lastCorrelationId() {
        return correlationId;
    }

    /** Sends a request; returns its correlation id. */
    public int send(ApiKey key, short version, ApiMessage body) throws IOException {
        out.write(encode(key, version, body));
        out.flush();
        return correlationId;
    }

    /** Reads one response frame: checks the correlation id in a header of the given version, decodes the body. */
    public <R> R receive(int expectedCorrelationId, short headerVersion, short version,
                         BiFunction<ByteBuf, Short, R> reader) throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        assertEquals(expectedCorrelationId, ResponseHeader.read(buf, headerVersion).correlationId);
        return reader.apply(buf, version);
    }

    /** Writes hand-made bytes (a frame no client would send) and releases the buffer. */
    public void writeAndRelease(ByteBuf frame) throws IOException {
        try {
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            out.write(bytes);
            out.flush();
        } finally {
            frame.release();
        }
    }

    /** The next four bytes of the stream, for tests that expect the broker to close the connection instead. */
    public int readInt() throws IOException {
        return in.readInt();
    }

    /** Sends a request and reads its response. */
    public <R> R roundTrip(ApiKey key, short version, short responseHeaderVersion, ApiMessage body,
                           BiFunction<ByteBuf, Short, R> reader) throws IOException {
        return receive(send(key, version, body), responseHeaderVersion, version, reader);
    }

    /** ApiVersions v0 round trip: the cheapest "is this connection served" probe. */
    public ApiVersionsResponse apiVersions() throws IOException {
        int id = send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
        return receive(id, (short) 0, (short) 0, ApiVersionsResponse::read);
    }

    /** True if the broker closed the connection within the timeout, false if it stayed open and silent. */
    public boolean closedWithin(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (EOFException | SocketException reset) {
            return true;
        } finally {
            socket.setSoTimeout(10_000);
        }
    }

    public void setTimeout(int ms) throws SocketException {
        socket.setSoTimeout(ms);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
