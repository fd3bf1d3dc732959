package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.ResponseHeader;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random, truncated and nonsensical frames from many connections: the broker must neither crash nor disturb the
 * connection of a well-behaved client, which keeps getting answers throughout.
 */
class BrokerBadInputTest {
    private static final long SEED = Long.getLong("tandem.fuzz.seed", 20261125L);

    @TempDir
    Path dir;

    @Test
    void shouldSurviveRandomAndTruncatedFramesWhileServingAWellBehavedClient() throws Exception {
        Random random = new Random(SEED);
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
             Socket good = new Socket("127.0.0.1", tandem.kafkaPort())) {
            good.setSoTimeout(10_000);
            DataInputStream goodIn = new DataInputStream(good.getInputStream());
            int correlationId = 0;
            byte[] metadata = encode(ApiKey.METADATA, (short) 12, new MetadataRequest().setTopics(null), 1);
            for (int round = 0; round < 60; round++) {
                byte[] garbage = switch (round % 4) {
                    // A plausible length and random content: header fields, api keys and versions are nonsense.
                    case 0 -> frame(randomBytes(random, 1 + random.nextInt(300)));
                    // A real request cut short inside its body, with the length prefix patched to match.
                    case 1 -> frame(java.util.Arrays.copyOfRange(metadata, 4, 4 + 1 + random.nextInt(metadata.length - 5)));
                    // A real request with a few bytes flipped.
                    case 2 -> flip(random, metadata.clone());
                    // Pure noise, length prefix included.
                    default -> randomBytes(random, 1 + random.nextInt(64));
                };
                sendAndDrain(tandem.kafkaPort(), garbage);
                int id = ++correlationId;
                good.getOutputStream().write(encode(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest(), id));
                assertEquals(Errors.NONE.code(), readApiVersions(goodIn, id).errorCode,
                        "the well-behaved connection is answered after bad round " + round + " (seed " + SEED + ")");
            }
        }
    }

    /** Sends bytes on a fresh connection and reads whatever comes back until the broker closes it or goes quiet. */
    private static void sendAndDrain(int port, byte[] bytes) throws IOException {
        try (Socket bad = new Socket("127.0.0.1", port)) {
            bad.setSoTimeout(150);
            bad.getOutputStream().write(bytes);
            bad.shutdownOutput();
            InputStream in = bad.getInputStream();
            byte[] sink = new byte[4096];
            try {
                while (in.read(sink) >= 0) {
                    // an error answer or nothing; either is fine as long as the broker lives on
                }
            } catch (SocketTimeoutException | java.net.SocketException quietOrReset) {
                // an incomplete frame is simply waited on; a reset is the broker closing the connection
            }
        }
    }

    private static ApiVersionsResponse readApiVersions(DataInputStream in, int correlationId) throws IOException {
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(body);
        assertEquals(correlationId, ResponseHeader.read(buf, (short) 0).correlationId);
        return ApiVersionsResponse.read(buf, (short) 0);
    }

    private static byte[] encode(ApiKey key, short version, io.tandem.kafka.wire.Message body, int correlationId) {
        ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, correlationId, "fuzz", key, version, body);
        try {
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            return bytes;
        } finally {
            frame.release();
        }
    }

    private static byte[] frame(byte[] body) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        DataOutputStream data = new DataOutputStream(out);
        data.writeInt(body.length);
        data.write(body);
        return out.toByteArray();
    }

    private static byte[] flip(Random random, byte[] bytes) {
        for (int i = 0; i < 3; i++) {
            int at = 4 + random.nextInt(bytes.length - 4);
            bytes[at] ^= (byte) (1 + random.nextInt(255));
        }
        return bytes;
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

}
