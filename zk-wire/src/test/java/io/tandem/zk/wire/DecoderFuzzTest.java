package io.tandem.zk.wire;

import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.proto.MultiRequest;
import io.tandem.zk.wire.proto.MultiResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Random bytes, and every truncation of valid bytes, into every record decoder: the only failure allowed is our
 * ZkCodecException (never IndexOutOfBounds, NegativeArraySize, OutOfMemory or a NullPointerException).
 */
class DecoderFuzzTest {

    private static final int RANDOM_INPUTS = 300;

    @TestFactory
    Stream<DynamicTest> everyDecoderShouldFailOnlyWithZkCodecException() {
        List<Class<?>> decoders = new ArrayList<>();
        for (var theirs : OfficialRecords.officialRecordClasses()) {
            decoders.add(OfficialRecords.oursFor(theirs));
        }
        decoders.add(MultiRequest.class);
        decoders.add(MultiResponse.class);
        return decoders.stream().map(ours -> DynamicTest.dynamicTest(ours.getSimpleName(), () -> {
            Random random = new Random(ours.getName().hashCode());
            for (int i = 0; i < RANDOM_INPUTS; i++) {
                byte[] input = new byte[random.nextInt(64)];
                random.nextBytes(input);
                // Small lengths and counts make it likelier that the decoder gets past the first field.
                if (input.length >= 4 && random.nextBoolean()) {
                    input[0] = 0;
                    input[1] = 0;
                    input[2] = 0;
                    input[3] = (byte) random.nextInt(8);
                }
                decodeExpectingOnlyCodecErrors(ours, input);
            }
            if (!ours.getSimpleName().startsWith("Multi")) {
                byte[] valid = OfficialRecords.encodeOurs(OfficialRecords.fillOurs(ours, random, false));
                for (int length = 0; length < valid.length; length++) {
                    decodeExpectingOnlyCodecErrors(ours, Arrays.copyOf(valid, length));
                }
            }
        }));
    }

    private static void decodeExpectingOnlyCodecErrors(Class<?> ours, byte[] input) {
        ByteBuf buf = Unpooled.wrappedBuffer(input);
        try {
            OfficialRecords.invokeRead(ours, new JuteInput(buf));
        } catch (ZkCodecException expected) {
            // The one failure a malformed record may cause.
        } catch (RuntimeException | Error unexpected) {
            fail(ours.getSimpleName() + " threw " + unexpected + " on " + Arrays.toString(input), unexpected);
        } finally {
            buf.release();
        }
    }
}
