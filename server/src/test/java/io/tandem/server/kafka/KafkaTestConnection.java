package io.tandem.server.kafka;

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
import java.net.Socket;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A blocking Kafka connection for tests that need to send exactly one request to exactly one broker (a follower, a
 * wrong version, a hand-made frame), which the official clients never do on purpose. Frames are kafka-wire's.
 */
public final class KafkaTestConnection implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int correlationId;

    public KafkaTestConnection(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Sends a request and returns its correlation id. */
    public int send(ApiKey key, short version, ApiMessage body) throws IOException {
        ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, ++correlationId, "test", key, version, body);
        writeAndRelease(frame);
        return correlationId;
    }

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

    /** Reads one response frame: checks the correlation id in a header of the given version, decodes the body. */
    public <R> R receive(int expectedCorrelationId, short headerVersion, short version,
                         BiFunction<ByteBuf, Short, R> reader) throws IOException {
        int length = in.readInt();
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        ResponseHeader header = ResponseHeader.read(buf, headerVersion);
        assertEquals(expectedCorrelationId, header.correlationId);
        return reader.apply(buf, version);
    }

    /** Sends a request and reads its response. */
    public <R> R roundTrip(ApiKey key, short version, short responseHeaderVersion, ApiMessage body,
                           BiFunction<ByteBuf, Short, R> reader) throws IOException {
        return receive(send(key, version, body), responseHeaderVersion, version, reader);
    }

    /** The raw input, for tests that expect the broker to close the connection. */
    public DataInputStream input() {
        return in;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
