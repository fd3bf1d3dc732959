package io.tandem.zk.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Random;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.apache.jute.BinaryInputArchive;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;

/**
 * Test helpers that find every jute record class of the official ZooKeeper jar, pair it with ours by package and name,
 * fill instances of either side with seeded random or empty values, and serialize with either side's codec.
 */
final class OfficialRecords {

    static final String[] PACKAGES = {"data", "proto", "txn"};

    /** Characters for random strings: ASCII, two- and three-byte UTF-8, but no surrogates (Apache cannot round-trip them). */
    private static final String STRING_ALPHABET = "abcXYZ019/._-~ éß©ЖЯ€中文字ｱ\u07ff\u0800\ud7ff\ue000\ufffd";

    private OfficialRecords() {
    }

    /** Every class in org.apache.zookeeper.{data,proto,txn} of the official jar that is a jute Record. */
    static List<Class<? extends Record>> officialRecordClasses() {
        try {
            Path jar = Path.of(org.apache.zookeeper.proto.CreateRequest.class.getProtectionDomain().getCodeSource()
                    .getLocation().toURI());
            List<Class<? extends Record>> classes = new ArrayList<>();
            try (JarFile file = new JarFile(jar.toFile())) {
                Enumeration<JarEntry> entries = file.entries();
                while (entries.hasMoreElements()) {
                    String name = entries.nextElement().getName();
                    for (String pkg : PACKAGES) {
                        String prefix = "org/apache/zookeeper/" + pkg + "/";
                        if (name.startsWith(prefix) && name.endsWith(".class") && !name.contains("$")
                                && name.indexOf('/', prefix.length()) < 0) {
                            Class<?> type = Class.forName(name.replace('/', '.').replace(".class", ""));
                            if (Record.class.isAssignableFrom(type) && !Modifier.isAbstract(type.getModifiers())) {
                                classes.add(type.asSubclass(Record.class));
                            }
                        }
                    }
                }
            }
            classes.sort((a, b) -> a.getName().compareTo(b.getName()));
            return classes;
        } catch (IOException | URISyntaxException | ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Our record class with the same package suffix and simple name, or null when we have none. */
    static Class<?> oursFor(Class<?> theirs) {
        String pkg = theirs.getPackageName().substring("org.apache.zookeeper.".length());
        try {
            return Class.forName("io.tandem.zk.wire." + pkg + "." + theirs.getSimpleName());
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    static Class<?> theirsFor(Class<?> ours) {
        String pkg = ours.getPackageName().substring("io.tandem.zk.wire.".length());
        try {
            return Class.forName("org.apache.zookeeper." + pkg + "." + ours.getSimpleName());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The jute fields of an official record in wire order (the generated classes declare them in schema order). */
    static List<Field> officialFields(Class<?> theirs) {
        List<Field> fields = new ArrayList<>();
        for (Field field : theirs.getDeclaredFields()) {
            if (!Modifier.isStatic(field.getModifiers())) {
                field.setAccessible(true);
                fields.add(field);
            }
        }
        return fields;
    }

    // ---- filling official instances

    static Object fillOfficial(Class<?> theirs, Random random, boolean empty) {
        try {
            Object record = theirs.getDeclaredConstructor().newInstance();
            for (Field field : officialFields(theirs)) {
                field.set(record, value(field.getGenericType(), random, empty, true));
            }
            return record;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- filling our instances

    static Object fillOurs(Class<?> ours, Random random, boolean empty) {
        RecordComponent[] components = ours.getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            Type generic = components[i].getGenericType();
            // Our only boxed fields are optional trailing ones (ConnectRequest.readOnly): Apache always writes them.
            if (generic == Boolean.class) {
                args[i] = !empty && random.nextBoolean();
            } else {
                args[i] = value(generic, random, empty, false);
            }
        }
        try {
            Constructor<?> constructor = ours.getDeclaredConstructor(types);
            return constructor.newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object value(Type type, Random random, boolean empty, boolean official) {
        if (type == int.class) {
            return empty ? 0 : random.nextInt();
        } else if (type == long.class) {
            return empty ? 0L : random.nextLong();
        } else if (type == boolean.class) {
            return !empty && random.nextBoolean();
        } else if (type == byte[].class) {
            if (empty || random.nextInt(8) == 0) {
                return null;
            }
            byte[] bytes = new byte[random.nextInt(24)];
            random.nextBytes(bytes);
            return bytes;
        } else if (type == String.class) {
            return empty || random.nextInt(8) == 0 ? null : randomString(random);
        } else if (type instanceof ParameterizedType list) {
            if (empty || random.nextInt(8) == 0) {
                return null;
            }
            Type element = list.getActualTypeArguments()[0];
            List<Object> values = new ArrayList<>();
            int size = random.nextInt(4);
            for (int i = 0; i < size; i++) {
                values.add(value(element, random, false, official));
            }
            return values;
        } else if (type instanceof Class<?> nested) {
            return official ? fillOfficial(nested, random, empty) : fillOurs(nested, random, empty);
        }
        throw new IllegalArgumentException("unexpected field type " + type);
    }

    static String randomString(Random random) {
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(16);
        for (int i = 0; i < length; i++) {
            text.append(STRING_ALPHABET.charAt(random.nextInt(STRING_ALPHABET.length())));
        }
        return text.toString();
    }

    // ---- codecs of both sides

    static byte[] serializeOfficial(Record record) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            record.serialize(BinaryOutputArchive.getArchive(bytes), "record");
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T extends Record> T deserializeOfficial(Class<T> theirs, byte[] bytes) {
        try {
            T record = theirs.getDeclaredConstructor().newInstance();
            record.deserialize(new BinaryInputArchive(new DataInputStream(new ByteArrayInputStream(bytes))), "record");
            return record;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Decodes with our {@code static read(JuteInput)}; fails unless every byte was consumed. */
    static Object decodeOurs(Class<?> ours, byte[] bytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        try {
            Object record = invokeRead(ours, new JuteInput(buf));
            if (buf.isReadable()) {
                throw new AssertionError(ours.getSimpleName() + " left " + buf.readableBytes() + " bytes unread");
            }
            return record;
        } finally {
            buf.release();
        }
    }

    static Object invokeRead(Class<?> ours, JuteInput in) {
        try {
            Method read = ours.getMethod("read", JuteInput.class);
            return read.invoke(null, in);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] encodeOurs(Object record) {
        return ((JuteRecord) record).toByteArray();
    }
}
