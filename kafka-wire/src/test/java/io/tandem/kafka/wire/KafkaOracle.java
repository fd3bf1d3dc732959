package io.tandem.kafka.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Drives the official Kafka message classes ({@code org.apache.kafka.common.message.*Data}) by reflection, so the same
 * code works for kafka-clients on the test classpath (4.x) and for an older jar in an isolated class loader (3.9).
 *
 * <p>Random messages come from the official per-version schemas ({@code XData.SCHEMAS[version]}): random bytes are
 * generated field by field from Kafka's own type description, parsed by the official class and written back by it, so
 * every byte sequence we compare against was written by Kafka's code. Nothing is listed by hand: every API key of our
 * {@link ApiKey} and every version both sides know is covered.
 */
final class KafkaOracle {
    private static final String MESSAGE_PACKAGE = "org.apache.kafka.common.message.";
    private static final String OUR_PACKAGE = "io.tandem.kafka.wire.message.";

    private final ClassLoader loader;
    private final Class<?> readableClass;
    private final Constructor<?> byteBufferAccessor;
    private final Class<?> cacheClass;
    private final Class<?> writableClass;
    private final Constructor<?> rawTaggedField;
    private final Method typeName;

    KafkaOracle(ClassLoader loader) throws ReflectiveOperationException {
        this.loader = loader;
        this.readableClass = loader.loadClass("org.apache.kafka.common.protocol.Readable");
        this.writableClass = loader.loadClass("org.apache.kafka.common.protocol.Writable");
        this.cacheClass = loader.loadClass("org.apache.kafka.common.protocol.ObjectSerializationCache");
        this.byteBufferAccessor = loader.loadClass("org.apache.kafka.common.protocol.ByteBufferAccessor")
                .getConstructor(ByteBuffer.class);
        this.rawTaggedField = loader.loadClass("org.apache.kafka.common.protocol.types.RawTaggedField")
                .getConstructor(int.class, byte[].class);
        // Looked up on the public base class: most types are anonymous subclasses, not accessible by reflection.
        this.typeName = loader.loadClass("org.apache.kafka.common.protocol.types.Type$DocumentedType").getMethod("typeName");
    }

    /** One message type known to both sides: their Data class and our generated class. */
    record Pair(String name, Class<?> theirs, Class<?> ours, short lowest, short highest, Method ourRead) {
    }

    /** Every request, response and header class both sides have, with the version range both know. */
    List<Pair> pairs() throws ReflectiveOperationException {
        List<String> names = new ArrayList<>();
        for (ApiKey key : ApiKey.values()) {
            names.add(key.apiName() + "Request");
            names.add(key.apiName() + "Response");
        }
        names.add("RequestHeader");
        names.add("ResponseHeader");
        List<Pair> result = new ArrayList<>();
        for (String name : names) {
            Class<?> theirs;
            try {
                theirs = loader.loadClass(MESSAGE_PACKAGE + name + "Data");
            } catch (ClassNotFoundException e) {
                continue; // an API this kafka-clients version does not know
            }
            Class<?> ours = Class.forName(OUR_PACKAGE + name);
            short theirLowest = theirs.getField("LOWEST_SUPPORTED_VERSION").getShort(null);
            short theirHighest = theirs.getField("HIGHEST_SUPPORTED_VERSION").getShort(null);
            short ourLowest = ours.getField("LOWEST_VERSION").getShort(null);
            short ourHighest = ours.getField("HIGHEST_VERSION").getShort(null);
            short lowest = (short) Math.max(theirLowest, ourLowest);
            short highest = (short) Math.min(theirHighest, ourHighest);
            if (lowest <= highest) {
                result.add(new Pair(name, theirs, ours, lowest, highest, ours.getMethod("read", ByteBuf.class, short.class)));
            }
        }
        return result;
    }

    // ------------------------------------------------------------------ the official side

    /** Parses {@code bytes} with the official class at {@code version}; fails unless every byte is consumed. */
    Object theirRead(Class<?> theirs, byte[] bytes, short version) throws ReflectiveOperationException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        Object readable = byteBufferAccessor.newInstance(buffer);
        Object message = theirs.getConstructor(readableClass, short.class).newInstance(readable, version);
        if (buffer.hasRemaining()) {
            throw new AssertionError(theirs.getSimpleName() + " v" + version + " left " + buffer.remaining()
                    + " of " + bytes.length + " bytes unread");
        }
        return message;
    }

    byte[] theirWrite(Object message, short version) throws ReflectiveOperationException {
        Object cache = cacheClass.getConstructor().newInstance();
        Method size = message.getClass().getMethod("size", cacheClass, short.class);
        int length = (int) size.invoke(message, cache, version);
        ByteBuffer buffer = ByteBuffer.allocate(length);
        Object writable = byteBufferAccessor.newInstance(buffer);
        message.getClass().getMethod("write", writableClass, cacheClass, short.class).invoke(message, writable, cache, version);
        if (buffer.hasRemaining()) {
            throw new AssertionError(message.getClass().getSimpleName() + " v" + version + " sized " + length
                    + " but wrote " + buffer.position());
        }
        return buffer.array();
    }

    Object theirEmpty(Class<?> theirs) throws ReflectiveOperationException {
        return theirs.getConstructor().newInstance();
    }

    @SuppressWarnings("unchecked")
    void addUnknownTaggedField(Object message, int tag, byte[] data) throws ReflectiveOperationException {
        List<Object> fields = (List<Object>) message.getClass().getMethod("unknownTaggedFields").invoke(message);
        fields.add(rawTaggedField.newInstance(tag, data));
    }

    /** Random bytes that follow the official schema of {@code theirs} at {@code version}. */
    byte[] randomBytes(Class<?> theirs, short version, Random random) throws ReflectiveOperationException {
        Object[] schemas = (Object[]) theirs.getField("SCHEMAS").get(null);
        Object schema = schemas[version];
        if (schema == null) {
            throw new AssertionError(theirs.getSimpleName() + " has no schema for v" + version);
        }
        ByteBuf out = Unpooled.buffer();
        generate(schema, out, random, 0);
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        return bytes;
    }

    private void generate(Object type, ByteBuf out, Random random, int depth) throws ReflectiveOperationException {
        String kind = type.getClass().getSimpleName();
        switch (kind) {
            case "Schema", "NullableSchema" -> {
                if (kind.equals("NullableSchema")) {
                    if (random.nextInt(5) == 0) {
                        out.writeByte(-1);
                        return;
                    }
                    out.writeByte(1);
                }
                Object[] fields = (Object[]) type.getClass().getMethod("fields").invoke(type);
                for (Object bound : fields) {
                    Object def = bound.getClass().getField("def").get(bound);
                    generate(def.getClass().getField("type").get(def), out, random, depth + 1);
                }
            }
            case "ArrayOf", "CompactArrayOf" -> {
                boolean compact = kind.equals("CompactArrayOf");
                boolean nullable = (boolean) type.getClass().getMethod("isNullable").invoke(type);
                if (nullable && random.nextInt(6) == 0) {
                    writeLength(out, -1, compact);
                    return;
                }
                Object element = ((java.util.Optional<?>) type.getClass().getMethod("arrayElementType").invoke(type)).get();
                int count = depth > 6 ? 0 : random.nextInt(4);
                writeLength(out, count, compact);
                for (int i = 0; i < count; i++) {
                    generate(element, out, random, depth + 1);
                }
            }
            case "TaggedFields" -> {
                Map<?, ?> fields = taggedFields(type);
                TreeMap<Integer, byte[]> chosen = new TreeMap<>();
                for (Map.Entry<?, ?> entry : fields.entrySet()) {
                    if (random.nextBoolean()) {
                        Object def = entry.getValue();
                        ByteBuf value = Unpooled.buffer();
                        generate(def.getClass().getField("type").get(def), value, random, depth + 1);
                        byte[] bytes = new byte[value.readableBytes()];
                        value.readBytes(bytes);
                        chosen.put((Integer) entry.getKey(), bytes);
                    }
                }
                Primitives.writeUnsignedVarint(out, chosen.size());
                for (Map.Entry<Integer, byte[]> entry : chosen.entrySet()) {
                    Primitives.writeUnsignedVarint(out, entry.getKey());
                    Primitives.writeUnsignedVarint(out, entry.getValue().length);
                    out.writeBytes(entry.getValue());
                }
            }
            default -> generatePrimitive((String) typeName.invoke(type), out, random);
        }
    }

    /** The tag -> field map of a TaggedFields type; 3.9 keeps it in a private field without an accessor. */
    private static Map<?, ?> taggedFields(Object type) throws ReflectiveOperationException {
        try {
            return (Map<?, ?>) type.getClass().getMethod("fields").invoke(type);
        } catch (NoSuchMethodException e) {
            Field fields = type.getClass().getDeclaredField("fields");
            fields.setAccessible(true);
            return (Map<?, ?>) fields.get(type);
        }
    }

    private static void writeLength(ByteBuf out, int length, boolean compact) {
        if (compact) {
            Primitives.writeUnsignedVarint(out, length + 1);
        } else {
            out.writeInt(length);
        }
    }

    private static void generatePrimitive(String typeName, ByteBuf out, Random random) {
        switch (typeName) {
            case "BOOLEAN" -> out.writeByte(random.nextBoolean() ? 1 : 0);
            case "INT8" -> out.writeByte(random.nextInt());
            case "INT16", "UINT16" -> out.writeShort(random.nextInt());
            case "INT32", "UINT32" -> out.writeInt(interestingInt(random));
            case "INT64" -> out.writeLong(random.nextInt(4) == 0 ? -1L : random.nextLong());
            case "FLOAT64" -> out.writeDouble(random.nextInt(3) == 0 ? 0.5 : random.nextDouble() * 1e6);
            case "UUID" -> {
                UUID uuid = random.nextInt(4) == 0 ? Primitives.ZERO_UUID : new UUID(random.nextLong(), random.nextLong());
                out.writeLong(uuid.getMostSignificantBits());
                out.writeLong(uuid.getLeastSignificantBits());
            }
            case "STRING", "NULLABLE_STRING", "COMPACT_STRING", "COMPACT_NULLABLE_STRING" -> {
                boolean compact = typeName.startsWith("COMPACT");
                if (typeName.contains("NULLABLE") && random.nextInt(5) == 0) {
                    if (compact) {
                        out.writeByte(0);
                    } else {
                        out.writeShort(-1);
                    }
                    return;
                }
                byte[] bytes = randomString(random).getBytes(StandardCharsets.UTF_8);
                if (compact) {
                    Primitives.writeUnsignedVarint(out, bytes.length + 1);
                } else {
                    out.writeShort(bytes.length);
                }
                out.writeBytes(bytes);
            }
            case "BYTES", "NULLABLE_BYTES", "COMPACT_BYTES", "COMPACT_NULLABLE_BYTES", "RECORDS", "NULLABLE_RECORDS",
                 "COMPACT_RECORDS", "COMPACT_NULLABLE_RECORDS" -> {
                boolean compact = typeName.startsWith("COMPACT");
                if (typeName.contains("NULLABLE") && random.nextInt(5) == 0) {
                    writeLength(out, -1, compact);
                    return;
                }
                byte[] bytes = new byte[random.nextInt(4) == 0 ? 0 : random.nextInt(40)];
                random.nextBytes(bytes);
                writeLength(out, bytes.length, compact);
                out.writeBytes(bytes);
            }
            default -> throw new AssertionError("no generator for Kafka type " + typeName);
        }
    }

    static int interestingInt(Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> -1;
            case 1 -> 0;
            case 2 -> Integer.MAX_VALUE;
            default -> random.nextInt();
        };
    }

    private static final String[] PIECES = {"a", "topic", "-", "_", ".", "é", "日本", "\uD83D\uDE00", "Z", "0"};

    static String randomString(Random random) {
        int pieces = random.nextInt(4) == 0 ? 0 : random.nextInt(6);
        StringBuilder value = new StringBuilder();
        for (int i = 0; i < pieces; i++) {
            value.append(PIECES[random.nextInt(PIECES.length)]);
        }
        return value.toString();
    }

    // ------------------------------------------------------------------ our side

    static Object ourRead(Pair pair, ByteBuf in, short version) throws Throwable {
        try {
            return pair.ourRead().invoke(null, in, version);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }

    static byte[] ourWrite(Message message, short version) {
        int size = message.size(version);
        ByteBuf out = Unpooled.buffer(size);
        message.write(out, version);
        if (out.readableBytes() != size) {
            throw new AssertionError(message.getClass().getSimpleName() + " v" + version + " sized " + size
                    + " but wrote " + out.readableBytes());
        }
        byte[] bytes = new byte[size];
        out.readBytes(bytes);
        return bytes;
    }

    /** Fills every public field of one of our generated messages with random values, by reflection. */
    static Object randomOurs(Class<?> type, Random random, int depth) throws ReflectiveOperationException {
        Object message = type.getConstructor().newInstance();
        for (Field field : type.getFields()) {
            if (Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            field.set(message, randomValue(field.getType(), field.getGenericType(), random, depth));
        }
        return message;
    }

    private static Object randomValue(Class<?> type, java.lang.reflect.Type generic, Random random, int depth)
            throws ReflectiveOperationException {
        // int and long fields may be uint16/uint32 on the wire: keep them in the range both kinds accept.
        if (type == boolean.class) {
            return random.nextBoolean();
        } else if (type == byte.class) {
            return (byte) random.nextInt();
        } else if (type == short.class) {
            return (short) random.nextInt();
        } else if (type == int.class) {
            return random.nextInt(65536);
        } else if (type == long.class) {
            return (long) random.nextInt(Integer.MAX_VALUE);
        } else if (type == double.class) {
            return random.nextDouble();
        } else if (type == String.class) {
            return randomString(random);
        } else if (type == UUID.class) {
            return new UUID(random.nextLong(), random.nextLong());
        } else if (type == byte[].class) {
            byte[] bytes = new byte[random.nextInt(20)];
            random.nextBytes(bytes);
            return bytes;
        } else if (type == ByteBuf.class) {
            byte[] bytes = new byte[random.nextInt(20)];
            random.nextBytes(bytes);
            return Unpooled.wrappedBuffer(bytes);
        } else if (type == List.class) {
            java.lang.reflect.Type elementType = ((ParameterizedType) generic).getActualTypeArguments()[0];
            Class<?> elementClass = (Class<?>) elementType;
            int count = depth > 5 ? 0 : random.nextInt(3);
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                list.add(randomValue(unbox(elementClass), elementClass, random, depth + 1));
            }
            return list;
        } else if (Message.class.isAssignableFrom(type)) {
            return randomOurs(type, random, depth + 1);
        }
        throw new AssertionError("no random value for " + type);
    }

    private static Class<?> unbox(Class<?> type) {
        if (type == Integer.class) {
            return int.class;
        } else if (type == Long.class) {
            return long.class;
        } else if (type == Short.class) {
            return short.class;
        } else if (type == Byte.class) {
            return byte.class;
        } else if (type == Boolean.class) {
            return boolean.class;
        } else if (type == Double.class) {
            return double.class;
        }
        return type;
    }

    static String hex(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, 64); i++) {
            out.append(String.format("%02x", bytes[i]));
        }
        return out + (bytes.length > 64 ? "..." : "");
    }

}
