package io.tandem.kafka.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntPredicate;

/**
 * The differential checks of one message type at one version against the official classes:
 * <ol>
 *   <li>random messages written by the official class decode with ours, consume every byte, and re-encode to the
 *       identical bytes, with {@code size} exact (also with an unknown tagged field added on their side);</li>
 *   <li>random messages filled by reflection on our class, written by ours, decode with theirs without leftovers and
 *       re-encode (by theirs) to our bytes;</li>
 *   <li>an empty message encodes identically on both sides (so our defaults match theirs);</li>
 *   <li>every truncation of a valid message, and random mutations of it, fail with {@link KafkaCodecException} only.</li>
 * </ol>
 */
final class CompatibilityCheck {
    static final int RANDOM_MESSAGES = 12;
    static final int MUTATIONS = 12;
    static final int UNKNOWN_TAG = 10_000;

    private final KafkaOracle oracle;
    final List<String> failures = new ArrayList<>();

    CompatibilityCheck(KafkaOracle oracle) {
        this.oracle = oracle;
    }

    /** Runs every check for the versions of {@code pair} accepted by {@code include}; returns the versions proven. */
    List<Short> check(KafkaOracle.Pair pair, IntPredicate include, long seed) {
        List<Short> proven = new ArrayList<>();
        for (short version = pair.lowest(); version <= pair.highest(); version++) {
            if (!include.test(version)) {
                continue;
            }
            Random random = new Random(seed * 1_000_003L + pair.name().hashCode() * 31L + version);
            int before = failures.size();
            try {
                checkVersion(pair, version, random);
            } catch (Throwable e) {
                Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e;
                StackTraceElement[] where = cause.getStackTrace();
                failures.add(pair.name() + " v" + version + ": " + cause + (where.length > 0 ? " at " + where[0] : ""));
            }
            if (failures.size() == before) {
                proven.add(version);
            }
        }
        return proven;
    }

    private void checkVersion(KafkaOracle.Pair pair, short version, Random random) throws Throwable {
        boolean flexible = isFlexible(pair, version);
        for (int i = 0; i < RANDOM_MESSAGES; i++) {
            byte[] randomBytes = oracle.randomBytes(pair.theirs(), version, random);
            Object theirs = oracle.theirRead(pair.theirs(), randomBytes, version);
            if (flexible && i % 3 == 0) {
                byte[] unknown = new byte[random.nextInt(5)];
                random.nextBytes(unknown);
                oracle.addUnknownTaggedField(theirs, UNKNOWN_TAG + i, unknown);
            }
            byte[] canonical = oracle.theirWrite(theirs, version);
            if (!theirsToOursAndBack(pair, version, canonical, "random #" + i)) {
                return;
            }
            if (i < 3) {
                checkTruncations(pair, version, canonical);
                checkMutations(pair, version, canonical, random);
            }
        }
        for (int i = 0; i < RANDOM_MESSAGES / 2; i++) {
            Message ours = (Message) KafkaOracle.randomOurs(pair.ours(), random, 0);
            byte[] ourBytes = KafkaOracle.ourWrite(ours, version);
            Object theirs = oracle.theirRead(pair.theirs(), ourBytes, version);
            byte[] theirBytes = oracle.theirWrite(theirs, version);
            if (!Arrays.equals(ourBytes, theirBytes)) {
                failures.add(pair.name() + " v" + version + ": our random message re-encoded by theirs differs at byte "
                        + Arrays.mismatch(ourBytes, theirBytes) + "\n ours   " + KafkaOracle.hex(ourBytes)
                        + "\n theirs " + KafkaOracle.hex(theirBytes));
                return;
            }
        }
        byte[] theirEmpty;
        try {
            theirEmpty = oracle.theirWrite(oracle.theirEmpty(pair.theirs()), version);
        } catch (java.lang.reflect.InvocationTargetException e) {
            theirEmpty = null; // their defaults are not writable at this version (e.g. a null non-nullable field)
        }
        if (theirEmpty != null) {
            Message ourEmpty = (Message) pair.ours().getConstructor().newInstance();
            byte[] ourEmptyBytes = KafkaOracle.ourWrite(ourEmpty, version);
            if (!Arrays.equals(ourEmptyBytes, theirEmpty)) {
                failures.add(pair.name() + " v" + version + ": empty messages differ at byte "
                        + Arrays.mismatch(ourEmptyBytes, theirEmpty) + "\n ours   " + KafkaOracle.hex(ourEmptyBytes)
                        + "\n theirs " + KafkaOracle.hex(theirEmpty));
                return;
            }
            theirsToOursAndBack(pair, version, theirEmpty, "empty");
        }
    }

    private static boolean isFlexible(KafkaOracle.Pair pair, short version) {
        String name = pair.name();
        if (name.equals("RequestHeader")) {
            return version >= 2;
        }
        if (name.equals("ResponseHeader")) {
            return version >= 1;
        }
        ApiKey key = ((ApiMessage) newOurs(pair)).apiKey();
        return key.isFlexible(version);
    }

    private static Object newOurs(KafkaOracle.Pair pair) {
        try {
            return pair.ours().getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private boolean theirsToOursAndBack(KafkaOracle.Pair pair, short version, byte[] canonical, String what)
            throws Throwable {
        ByteBuf in = Unpooled.wrappedBuffer(canonical);
        Message ours = (Message) KafkaOracle.ourRead(pair, in, version);
        if (in.isReadable()) {
            failures.add(pair.name() + " v" + version + " " + what + ": ours left " + in.readableBytes() + " of "
                    + canonical.length + " bytes unread\n theirs " + KafkaOracle.hex(canonical));
            return false;
        }
        byte[] again = KafkaOracle.ourWrite(ours, version);
        if (!Arrays.equals(again, canonical)) {
            failures.add(pair.name() + " v" + version + " " + what + ": re-encoded bytes differ at byte "
                    + Arrays.mismatch(again, canonical) + "\n ours   " + KafkaOracle.hex(again)
                    + "\n theirs " + KafkaOracle.hex(canonical) + "\n decoded " + ours);
            return false;
        }
        return true;
    }

    private void checkTruncations(KafkaOracle.Pair pair, short version, byte[] canonical) throws Throwable {
        int step = Math.max(1, canonical.length / 40);
        for (int length = 0; length < canonical.length; length += step) {
            ByteBuf in = Unpooled.wrappedBuffer(canonical, 0, length);
            try {
                KafkaOracle.ourRead(pair, in, version);
                failures.add(pair.name() + " v" + version + ": a " + length + "-byte prefix of " + canonical.length
                        + " bytes decoded without an error");
                return;
            } catch (KafkaCodecException expected) {
                // the only acceptable outcome
            }
        }
    }

    private void checkMutations(KafkaOracle.Pair pair, short version, byte[] canonical, Random random) throws Throwable {
        if (canonical.length == 0) {
            return;
        }
        for (int i = 0; i < MUTATIONS; i++) {
            byte[] mutated = canonical.clone();
            int flips = 1 + random.nextInt(3);
            for (int f = 0; f < flips; f++) {
                mutated[random.nextInt(mutated.length)] = (byte) random.nextInt();
            }
            try {
                Message decoded = (Message) KafkaOracle.ourRead(pair, Unpooled.wrappedBuffer(mutated), version);
                KafkaOracle.ourWrite(decoded, version); // whatever decodes must also encode
            } catch (KafkaCodecException expected) {
                // fine: malformed input is reported as a codec error
            }
        }
        byte[] noise = new byte[random.nextInt(64)];
        random.nextBytes(noise);
        try {
            KafkaOracle.ourRead(pair, Unpooled.wrappedBuffer(noise), version);
        } catch (KafkaCodecException expected) {
            // fine
        }
    }
}
