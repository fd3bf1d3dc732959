package io.tandem.zk.wire;

import static io.tandem.zk.wire.OfficialRecords.decodeOurs;
import static io.tandem.zk.wire.OfficialRecords.deserializeOfficial;
import static io.tandem.zk.wire.OfficialRecords.encodeOurs;
import static io.tandem.zk.wire.OfficialRecords.fillOfficial;
import static io.tandem.zk.wire.OfficialRecords.fillOurs;
import static io.tandem.zk.wire.OfficialRecords.officialFields;
import static io.tandem.zk.wire.OfficialRecords.oursFor;
import static io.tandem.zk.wire.OfficialRecords.serializeOfficial;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.jute.Record;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every jute record of the official 3.9.5 jar against ours, both directions, with seeded random and empty instances:
 * bytes from theirs decode with ours to the same field values and re-encode to the same bytes, and bytes from ours
 * decode with theirs and re-serialize to the same bytes.
 */
class OfficialDifferentialTest {

    private static final long SEED = 0x5eedL;
    private static final int RANDOM_INSTANCES = 40;

    @Test
    void everyOfficialRecordShouldHaveOursWithTheSameFieldsInTheSameOrder() {
        List<Class<? extends Record>> official = OfficialRecords.officialRecordClasses();
        assertTrue(official.size() >= 60, "found only " + official.size() + " official record classes");
        List<String> missing = new ArrayList<>();
        for (Class<? extends Record> theirs : official) {
            Class<?> ours = oursFor(theirs);
            if (ours == null) {
                missing.add(theirs.getName());
                continue;
            }
            assertTrue(ours.isRecord(), ours + " should be a Java record");
            List<String> theirNames = officialFields(theirs).stream().map(Field::getName).toList();
            List<String> ourNames = Arrays.stream(ours.getRecordComponents()).map(RecordComponent::getName).toList();
            assertEquals(theirNames, ourNames, "fields of " + theirs.getSimpleName());
        }
        assertEquals(List.of(), missing, "official records without a counterpart of ours");
    }

    @TestFactory
    Stream<DynamicTest> officialBytesShouldDecodeWithOursAndReencodeIdentically() {
        return OfficialRecords.officialRecordClasses().stream().map(theirs -> DynamicTest.dynamicTest(
                theirs.getSimpleName(), () -> {
                    Class<?> ours = oursFor(theirs);
                    assertNotNull(ours, "no counterpart of " + theirs.getName());
                    Random random = new Random(SEED ^ theirs.getName().hashCode());
                    for (int i = 0; i <= RANDOM_INSTANCES; i++) {
                        Record record = (Record) fillOfficial(theirs, random, i == 0);
                        byte[] bytes = serializeOfficial(record);
                        Object decoded = decodeOurs(ours, bytes);
                        assertSameValues(record, decoded, theirs.getSimpleName());
                        assertArrayEquals(bytes, encodeOurs(decoded), theirs.getSimpleName() + " instance " + i);
                    }
                }));
    }

    @TestFactory
    Stream<DynamicTest> ourBytesShouldDecodeWithTheirsAndReserializeIdentically() {
        return OfficialRecords.officialRecordClasses().stream().map(theirs -> DynamicTest.dynamicTest(
                theirs.getSimpleName(), () -> {
                    Class<?> ours = oursFor(theirs);
                    assertNotNull(ours, "no counterpart of " + theirs.getName());
                    Random random = new Random(SEED ^ ~theirs.getName().hashCode());
                    for (int i = 0; i <= RANDOM_INSTANCES; i++) {
                        Object record = fillOurs(ours, random, i == 0);
                        byte[] bytes = encodeOurs(record);
                        Record decoded = deserializeOfficial(theirs, bytes);
                        assertSameValues(decoded, record, theirs.getSimpleName());
                        assertArrayEquals(bytes, serializeOfficial(decoded), theirs.getSimpleName() + " instance " + i);
                        assertEquals(record, decodeOurs(ours, bytes), "our own round trip of " + ours.getSimpleName());
                    }
                }));
    }

    @Test
    void connectRequestWithoutTheReadOnlyByteShouldDecodeAsAbsentAndReencodeWithoutIt() {
        var old = new org.apache.zookeeper.proto.ConnectRequest(0, 5L, 30000, 0L, new byte[16], false);
        byte[] withReadOnly = serializeOfficial(old);
        byte[] withoutReadOnly = Arrays.copyOf(withReadOnly, withReadOnly.length - 1);

        var decoded = (io.tandem.zk.wire.proto.ConnectRequest) decodeOurs(
                io.tandem.zk.wire.proto.ConnectRequest.class, withoutReadOnly);

        assertEquals(null, decoded.readOnly());
        assertEquals(30000, decoded.timeOut());
        assertArrayEquals(withoutReadOnly, encodeOurs(decoded));
        assertFalse(Arrays.equals(withReadOnly, encodeOurs(decoded)));
    }

    /** Compares an official record's fields with our record's components, recursively. */
    static void assertSameValues(Object theirs, Object ours, String where) {
        if (theirs instanceof Record) {
            List<Field> fields = officialFields(theirs.getClass());
            RecordComponent[] components = ours.getClass().getRecordComponents();
            assertEquals(fields.size(), components.length, where);
            for (int i = 0; i < fields.size(); i++) {
                try {
                    assertSameValues(fields.get(i).get(theirs), components[i].getAccessor().invoke(ours),
                            where + "." + fields.get(i).getName());
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        } else if (theirs instanceof List<?> theirList) {
            List<?> ourList = (List<?>) ours;
            assertEquals(theirList.size(), ourList.size(), where);
            for (int i = 0; i < theirList.size(); i++) {
                assertSameValues(theirList.get(i), ourList.get(i), where + "[" + i + "]");
            }
        } else if (theirs instanceof byte[] theirBytes) {
            assertArrayEquals(theirBytes, (byte[]) ours, where);
        } else {
            assertEquals(theirs, ours, where);
        }
    }
}
