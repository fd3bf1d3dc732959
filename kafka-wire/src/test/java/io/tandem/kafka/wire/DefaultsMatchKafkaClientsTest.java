package io.tandem.kafka.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Every field of every generated class (nested structs included) starts at the same default as the matching field of
 * the official Data class. Defaults matter on the wire for tagged fields (written only when not default) and for the
 * fields a version lacks (read as the default), which random round trips rarely hit.
 */
class DefaultsMatchKafkaClientsTest {

    @Test
    void shouldStartEveryFieldAtKafkasDefault() throws Exception {
        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        KafkaOracle oracle = new KafkaOracle(getClass().getClassLoader());
        for (KafkaOracle.Pair pair : oracle.pairs()) {
            compared += compare(pair.ours(), pair.theirs(), pair.theirs(), mismatches);
        }
        System.out.println("kafka-wire defaults: " + compared + " fields compared with kafka-clients 4.4");
        assertEquals(List.of(), mismatches);
        assertTrue(compared > 1500, "suspiciously few fields compared: " + compared);
    }

    private static int compare(Class<?> ours, Class<?> theirs, Class<?> theirTop, List<String> mismatches) throws Exception {
        int compared = 0;
        Object ourEmpty = ours.getConstructor().newInstance();
        Object theirEmpty = theirs.getConstructor().newInstance();
        for (Field field : ours.getFields()) {
            if (Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            Method getter;
            try {
                getter = theirs.getMethod(field.getName());
            } catch (NoSuchMethodException e) {
                if (System.getProperty("kafkawire.verbose") != null) {
                    System.out.println("no getter " + theirs.getName() + "." + field.getName());
                }
                continue; // a field 4.4 no longer has (only in versions it removed)
            }
            compared++;
            Object ourValue = field.get(ourEmpty);
            Object theirValue = getter.invoke(theirEmpty);
            if (!sameDefault(ourValue, theirValue)) {
                mismatches.add(ours.getName() + "." + field.getName() + ": ours " + ourValue + ", theirs " + theirValue);
            }
        }
        for (Class<?> nested : ours.getDeclaredClasses()) {
            if (!Message.class.isAssignableFrom(nested)) {
                continue;
            }
            try {
                // Kafka nests every struct class directly in the Data class; we nest it where it is used.
                Class<?> theirNested = theirTop.getClassLoader().loadClass(theirTop.getName() + "$" + nested.getSimpleName());
                compared += compare(nested, theirNested, theirTop, mismatches);
            } catch (ClassNotFoundException e) {
                // a struct 4.4 no longer has
                if (System.getProperty("kafkawire.verbose") != null) {
                    System.out.println("no class " + theirTop.getName() + "$" + nested.getSimpleName());
                }
            }
        }
        return compared;
    }

    private static boolean sameDefault(Object ours, Object theirs) throws Exception {
        if (ours == null || theirs == null) {
            return ours == null && theirs == null;
        }
        if (ours instanceof Number a && theirs instanceof Number b) {
            return a instanceof Double ? a.doubleValue() == b.doubleValue() : a.longValue() == b.longValue();
        }
        if (ours instanceof Boolean || ours instanceof String) {
            return ours.equals(theirs);
        }
        if (ours instanceof UUID uuid) {
            long high = (long) theirs.getClass().getMethod("getMostSignificantBits").invoke(theirs);
            long low = (long) theirs.getClass().getMethod("getLeastSignificantBits").invoke(theirs);
            return uuid.getMostSignificantBits() == high && uuid.getLeastSignificantBits() == low;
        }
        if (ours instanceof List<?> list) {
            return list.isEmpty() && ((Collection<?>) theirs).isEmpty();
        }
        if (ours instanceof byte[] bytes) {
            return Arrays.equals(bytes, (byte[]) theirs);
        }
        if (ours instanceof ByteBuf buffer) {
            return !buffer.isReadable() && theirs instanceof ByteBuffer b && !b.hasRemaining();
        }
        if (ours instanceof Message) {
            return true; // both present; the struct's own fields are compared on their own
        }
        throw new AssertionError("cannot compare " + ours.getClass());
    }
}
