import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Generates Tandem's Kafka message codecs from the schema files in {@code src/main/schemas}.
 *
 * <p>Run by exec-maven-plugin at generate-sources as a single-file program ({@code java Generator.java SCHEMAS OUT}), so
 * the build needs nothing beyond the JDK: no plugin to build and publish first, no annotation processor. The output is
 * plain Java under target/generated-sources and is never edited by hand; change the schema or this generator instead.
 *
 * <p>Schema format (one file per API key, see the README): indentation nests fields; each field line is
 * {@code Name type versions [nullable R] [default V] [tag N tagged R] [flexible none] [zerocopy]}.
 */
public final class Generator {
    static final String PACKAGE = "io.tandem.kafka.wire";
    static final String MESSAGE_PACKAGE = PACKAGE + ".message";

    public static void main(String[] args) throws IOException {
        Path schemas = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Path stamp = out.resolve(".generated-stamp");
        long newestInput = newestModification(schemas, Path.of(args.length > 2 ? args[2] : "generator/Generator.java"));
        if (Files.exists(stamp) && Files.getLastModifiedTime(stamp).toMillis() >= newestInput) {
            return; // up to date: keeps incremental builds fast
        }
        List<Api> apis = new ArrayList<>();
        List<Side> headers = new ArrayList<>();
        List<String[]> errors = new ArrayList<>();
        try (Stream<Path> files = Files.list(schemas)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (name.equals("errors.kws")) {
                    errors.addAll(parseErrors(file));
                } else if (name.equals("headers.kws")) {
                    headers.addAll(parseHeaders(file));
                } else if (name.endsWith(".kws")) {
                    apis.add(parseApi(file));
                }
            }
        }
        apis.sort(Comparator.comparingInt(a -> a.key));
        Path messageDir = out.resolve(MESSAGE_PACKAGE.replace('.', '/'));
        Path wireDir = out.resolve(PACKAGE.replace('.', '/'));
        Files.createDirectories(messageDir);
        for (Api api : apis) {
            write(messageDir.resolve(api.request.className + ".java"), new ClassWriter(api, api.request).generate());
            write(messageDir.resolve(api.response.className + ".java"), new ClassWriter(api, api.response).generate());
        }
        for (Side header : headers) {
            write(messageDir.resolve(header.className + ".java"), new ClassWriter(null, header).generate());
        }
        write(wireDir.resolve("ApiKey.java"), generateApiKey(apis));
        write(wireDir.resolve("Errors.java"), generateErrors(errors));
        Files.writeString(stamp, "");
    }

    static long newestModification(Path schemas, Path generator) throws IOException {
        long newest = Files.exists(generator) ? Files.getLastModifiedTime(generator).toMillis() : Long.MAX_VALUE;
        try (Stream<Path> files = Files.list(schemas)) {
            for (Path file : files.toList()) {
                newest = Math.max(newest, Files.getLastModifiedTime(file).toMillis());
            }
        }
        return newest;
    }

    static void write(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- model

    /** A set of versions; '+' ranges are closed at the side's latest version when parsed. */
    static final class Versions {
        final BitSet bits = new BitSet();

        static Versions parse(String text, int latest) {
            Versions versions = new Versions();
            if (text.equals("none")) {
                return versions;
            }
            for (String part : text.split(",")) {
                if (part.endsWith("+")) {
                    int low = Integer.parseInt(part.substring(0, part.length() - 1));
                    if (low <= latest) {
                        versions.bits.set(low, latest + 1);
                    }
                } else if (part.contains("-")) {
                    String[] bounds = part.split("-");
                    versions.bits.set(Integer.parseInt(bounds[0]), Integer.parseInt(bounds[1]) + 1);
                } else {
                    versions.bits.set(Integer.parseInt(part));
                }
            }
            return versions;
        }

        boolean contains(int version) {
            return bits.get(version);
        }

        boolean isEmpty() {
            return bits.isEmpty();
        }

        int min() {
            return bits.nextSetBit(0);
        }

        int max() {
            return bits.length() - 1;
        }

        Versions and(Versions other) {
            Versions result = new Versions();
            result.bits.or(bits);
            result.bits.and(other.bits);
            return result;
        }

        boolean containsAll(Versions other) {
            BitSet missing = (BitSet) other.bits.clone();
            missing.andNot(bits);
            return missing.isEmpty();
        }

        /** A Java condition on {@code version}, simplified against the versions the enclosing code can run at. */
        String condition(Versions possible) {
            if (containsAll(possible)) {
                return "true";
            }
            if (and(possible).isEmpty()) {
                return "false";
            }
            List<String> runs = new ArrayList<>();
            int low = min();
            while (low >= 0) {
                int high = bits.nextClearBit(low) - 1;
                boolean noLower = low <= possible.min();
                boolean noUpper = high >= possible.max();
                String run;
                if (low == high && !noLower && !noUpper) {
                    run = "version == " + low;
                } else if (noLower && noUpper) {
                    run = "true";
                } else if (noLower) {
                    run = "version <= " + high;
                } else if (noUpper) {
                    run = "version >= " + low;
                } else {
                    run = "(version >= " + low + " && version <= " + high + ")";
                }
                runs.add(run);
                low = bits.nextSetBit(high + 1);
            }
            return String.join(" || ", runs);
        }
    }

    static final class Field {
        String name;
        String type;          // as written: int32, string, []int32, []Struct, Struct
        Versions versions;
        Versions nullable;
        Versions tagged;
        int tag = -1;
        String defaultToken;
        boolean neverFlexible;
        boolean zeroCopy;
        Struct struct;        // for struct and []struct fields

        boolean isArray() {
            return type.startsWith("[]");
        }

        String elementType() {
            return isArray() ? type.substring(2) : type;
        }

        boolean isStructType() {
            return Character.isUpperCase(elementType().charAt(0));
        }

        String javaName() {
            String camel = Character.toLowerCase(name.charAt(0)) + name.substring(1);
            return JAVA_KEYWORDS.contains(camel) ? camel + "Value" : camel;
        }

        String capitalized() {
            return Character.toUpperCase(name.charAt(0)) + name.substring(1);
        }
    }

    static final Set<String> JAVA_KEYWORDS = Set.of("abstract", "assert", "boolean", "break", "byte", "case", "catch",
            "char", "class", "const", "continue", "default", "do", "double", "else", "enum", "extends", "final",
            "finally", "float", "for", "goto", "if", "implements", "import", "instanceof", "int", "interface", "long",
            "native", "new", "package", "private", "protected", "public", "return", "short", "static", "strictfp",
            "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try", "void", "volatile",
            "while", "true", "false", "null", "record", "var", "yield");

    static final class Struct {
        final String name;
        final List<Field> fields = new ArrayList<>();
        Versions versions; // versions at which this struct can appear

        Struct(String name) {
            this.name = name;
        }
    }

    static final class Side {
        String className;
        boolean request;
        Versions versions;
        Versions flexible;
        int unstable = -1;       // the latest version when it is not yet stable, else -1
        int header0Max = -1;     // request versions up to this one use request header v0
        int fixedHeader = -1;    // response header version used whatever the API version (ApiVersions: 0)
        boolean header;          // a header, not an API message
        Struct root;
        final Map<String, Struct> structs = new LinkedHashMap<>();
    }

    static final class Api {
        int key;
        String name;
        Side request;
        Side response;
    }

    // ---------------------------------------------------------------- parsing

    record Line(int number, int indent, String[] tokens) {
    }

    static List<Line> lines(Path file) throws IOException {
        List<Line> result = new ArrayList<>();
        List<String> raw = Files.readAllLines(file);
        for (int i = 0; i < raw.size(); i++) {
            String text = raw.get(i);
            String trimmed = text.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            int indent = 0;
            while (text.charAt(indent) == ' ') {
                indent++;
            }
            if (indent % 2 != 0) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": indentation must be a multiple of 2");
            }
            result.add(new Line(i + 1, indent / 2, trimmed.split("\\s+")));
        }
        return result;
    }

    static Api parseApi(Path file) throws IOException {
        List<Line> lines = lines(file);
        Api api = new Api();
        Line first = lines.get(0);
        expect(file, first, first.tokens[0].equals("api") && first.tokens.length == 3, "expected 'api KEY NAME'");
        api.key = Integer.parseInt(first.tokens[1]);
        api.name = first.tokens[2];
        int index = 1;
        List<Side> sides = new ArrayList<>();
        while (index < lines.size()) {
            Line line = lines.get(index);
            expect(file, line, line.indent == 0 && (line.tokens[0].equals("request") || line.tokens[0].equals("response")),
                    "expected 'request' or 'response'");
            Side side = new Side();
            side.request = line.tokens[0].equals("request");
            side.className = api.name + (side.request ? "Request" : "Response");
            index = parseSide(file, lines, index, side);
            sides.add(side);
        }
        expect(file, first, sides.size() == 2 && sides.get(0).request && !sides.get(1).request,
                "expected a request then a response");
        api.request = sides.get(0);
        api.response = sides.get(1);
        return api;
    }

    static List<Side> parseHeaders(Path file) throws IOException {
        List<Line> lines = lines(file);
        List<Side> result = new ArrayList<>();
        int index = 0;
        while (index < lines.size()) {
            Line line = lines.get(index);
            expect(file, line, line.tokens[0].equals("header"), "expected 'header NAME ...'");
            Side side = new Side();
            side.header = true;
            side.className = line.tokens[1];
            String[] rest = new String[line.tokens.length - 1];
            rest[0] = "header";
            System.arraycopy(line.tokens, 2, rest, 1, line.tokens.length - 2);
            lines.set(index, new Line(line.number, 0, rest));
            index = parseSide(file, lines, index, side);
            result.add(side);
        }
        return result;
    }

    static int parseSide(Path file, List<Line> lines, int index, Side side) {
        Line line = lines.get(index);
        Map<String, String> attributes = attributes(file, line, 1);
        side.versions = Versions.parse(attributes.get("versions"), Integer.MAX_VALUE - 1);
        int latest = side.versions.max();
        side.flexible = Versions.parse(attributes.getOrDefault("flexible", "none"), latest);
        if (attributes.containsKey("unstable")) {
            side.unstable = Integer.parseInt(attributes.get("unstable"));
        }
        if (attributes.containsKey("header0")) {
            side.header0Max = Integer.parseInt(attributes.get("header0"));
        }
        if (attributes.containsKey("header")) {
            side.fixedHeader = Integer.parseInt(attributes.get("header"));
        }
        side.root = new Struct(side.className);
        side.root.versions = side.versions;
        index++;
        index = parseFields(file, lines, index, 1, side.root, side, latest);
        while (index < lines.size() && lines.get(index).indent == 1 && lines.get(index).tokens[0].equals("struct")) {
            Line structLine = lines.get(index);
            Struct struct = side.structs.computeIfAbsent(structLine.tokens[1], Struct::new);
            expect(file, structLine, struct.fields.isEmpty(), "struct defined twice");
            index = parseFields(file, lines, index + 1, 2, struct, side, latest);
        }
        return index;
    }

    static int parseFields(Path file, List<Line> lines, int index, int indent, Struct struct, Side side, int latest) {
        while (index < lines.size()) {
            Line line = lines.get(index);
            if (line.indent < indent || line.tokens[0].equals("struct")) {
                return index;
            }
            expect(file, line, line.indent == indent, "unexpected indentation");
            Field field = new Field();
            field.name = line.tokens[0];
            field.type = line.tokens[1];
            field.versions = Versions.parse(line.tokens[2], latest);
            Map<String, String> attributes = attributes(file, line, 3);
            field.nullable = Versions.parse(attributes.getOrDefault("nullable", "none"), latest);
            field.tagged = Versions.parse(attributes.getOrDefault("tagged", "none"), latest);
            if (attributes.containsKey("tag")) {
                field.tag = Integer.parseInt(attributes.get("tag"));
            }
            field.defaultToken = attributes.get("default");
            field.neverFlexible = "none".equals(attributes.get("flexible"));
            field.zeroCopy = attributes.containsKey("zerocopy");
            expect(file, line, field.tagged.isEmpty() || field.tag >= 0, "tagged field without a tag number");
            expect(file, line, field.tagged.isEmpty() || field.versions.and(field.tagged).containsAll(field.tagged)
                    && side.flexible.containsAll(field.tagged), "tagged versions must be flexible field versions");
            index++;
            if (field.isStructType()) {
                String structName = field.elementType();
                Struct target = side.structs.computeIfAbsent(structName, Struct::new);
                field.struct = target;
                if (index < lines.size() && lines.get(index).indent == indent + 1) {
                    expect(file, line, target.fields.isEmpty(), "struct " + structName + " defined twice");
                    index = parseFields(file, lines, index, indent + 1, target, side, latest);
                }
            }
            struct.fields.add(field);
        }
        return index;
    }

    static Map<String, String> attributes(Path file, Line line, int from) {
        Map<String, String> result = new LinkedHashMap<>();
        String[] tokens = line.tokens;
        for (int i = from; i < tokens.length; i++) {
            String key = tokens[i];
            if (key.equals("zerocopy")) {
                result.put(key, "true");
                continue;
            }
            expect(file, line, i + 1 < tokens.length, "attribute " + key + " needs a value");
            result.put(key, tokens[++i]);
        }
        return result;
    }

    static List<String[]> parseErrors(Path file) throws IOException {
        List<String[]> result = new ArrayList<>();
        for (Line line : lines(file)) {
            expect(file, line, line.tokens[0].equals("error") && line.tokens.length >= 3, "expected 'error CODE NAME'");
            result.add(line.tokens);
        }
        return result;
    }

    static void expect(Path file, Line line, boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(file + ":" + line.number + ": " + message);
        }
    }

    // ---------------------------------------------------------------- message classes

    static final class ClassWriter {
        final Api api;
        final Side side;
        final StringBuilder out = new StringBuilder();
        int indent;

        ClassWriter(Api api, Side side) {
            this.api = api;
            this.side = side;
        }

        void line(String format, Object... args) {
            if (!format.isEmpty()) {
                out.append("    ".repeat(indent));
                out.append(args.length == 0 ? format : String.format(Locale.ROOT, format, args));
            }
            out.append('\n');
        }

        String generate() {
            computeStructVersions(side.root, side.versions);
            line("// Generated by kafka-wire/generator/Generator.java from src/main/schemas. Do not edit.");
            line("package %s;", MESSAGE_PACKAGE);
            line("");
            line("import io.netty.buffer.ByteBuf;");
            line("import %s.KafkaCodecException;", PACKAGE);
            line("import %s.Primitives;", PACKAGE);
            line("import %s.RawTaggedField;", PACKAGE);
            line("");
            String kind = side.header ? "the " + side.className : "API key " + api.key + " " + api.name
                    + (side.request ? " request" : " response");
            line("/** Codec for %s, versions %d to %d. */", kind, side.versions.min(), side.versions.max());
            String interfaces = side.header ? PACKAGE + ".Message" : PACKAGE + ".ApiMessage";
            generateStruct(side.root, true, interfaces);
            return out.toString();
        }

        void computeStructVersions(Struct struct, Versions versions) {
            struct.versions = struct.versions == null ? versions : union(struct.versions, versions);
            for (Field field : struct.fields) {
                if (field.struct != null) {
                    computeStructVersions(field.struct, field.versions.and(versions));
                }
            }
        }

        static Versions union(Versions a, Versions b) {
            Versions result = new Versions();
            result.bits.or(a.bits);
            result.bits.or(b.bits);
            return result;
        }

        void generateStruct(Struct struct, boolean top, String interfaces) {
            String name = struct.name;
            line("public %sfinal class %s implements %s {", top ? "" : "static ", name, interfaces);
            indent++;
            if (top) {
                line("public static final short LOWEST_VERSION = %d;", side.versions.min());
                line("public static final short HIGHEST_VERSION = %d;", side.versions.max());
                line("");
            }
            for (Field field : struct.fields) {
                line("public %s %s;", javaType(field), field.javaName());
            }
            line("private java.util.List<RawTaggedField> unknownTaggedFields;");
            line("");
            if (!top) {
                // Compared against when deciding whether a tagged struct field must be written; never exposed.
                line("private static final %s DEFAULT_INSTANCE = new %s();", name, name);
                line("");
            }
            line("/** A message with every field at its default. */");
            line("public %s() {", name);
            indent++;
            for (Field field : struct.fields) {
                line("this.%s = %s;", field.javaName(), defaultValue(field));
            }
            indent--;
            line("}");
            line("");
            line("/** For the decoder, which assigns every field itself: skips allocating defaults it would replace. */");
            line("private %s(boolean uninitialized) {", name);
            line("}");
            line("");
            for (Field field : struct.fields) {
                line("public %s set%s(%s value) {", name, field.capitalized(), javaType(field));
                line("    this.%s = value;", field.javaName());
                line("    return this;");
                line("}");
                line("");
            }
            line("/** Tagged fields this codec does not know, kept so that they are written back unchanged. */");
            line("@Override");
            line("public java.util.List<RawTaggedField> unknownTaggedFields() {");
            line("    if (unknownTaggedFields == null) {");
            line("        unknownTaggedFields = new java.util.ArrayList<>(0);");
            line("    }");
            line("    return unknownTaggedFields;");
            line("}");
            line("");
            if (top) {
                if (!side.header) {
                    line("@Override");
                    line("public %s.ApiKey apiKey() {", PACKAGE);
                    line("    return %s.ApiKey.%s;", PACKAGE, constantName(api.name));
                    line("}");
                    line("");
                    line("@Override");
                    line("public boolean isRequest() {");
                    line("    return %s;", side.request);
                    line("}");
                    line("");
                }
                line("/**");
                line(" * Decodes one %s at {@code version}. Records and zero-copy bytes fields are slices of {@code in}:", name);
                line(" * they stay valid only while {@code in} does (retain them to keep them longer).");
                line(" *");
                line(" * @throws KafkaCodecException on truncated or malformed input, or an unsupported version");
                line(" */");
                line("public static %s read(ByteBuf in, short version) {", name);
                line("    checkVersion(version);");
                line("    try {");
                line("        return readFrom(in, version);");
                line("    } catch (IndexOutOfBoundsException e) {");
                line("        throw KafkaCodecException.truncated(\"%s\", version, e);", name);
                line("    }");
                line("}");
                line("");
                line("private static void checkVersion(short version) {");
                line("    if (version < LOWEST_VERSION || version > HIGHEST_VERSION) {");
                line("        throw KafkaCodecException.unsupportedVersion(\"%s\", version);", name);
                line("    }");
                line("}");
                line("");
            }
            generateRead(struct, top);
            generateWrite(struct, top);
            generateSize(struct, top);
            if (!top) {
                generateSizeOfArray(struct);
            }
            generateEquals(struct);
            generateToString(struct);
            if (top) {
                // Every struct is a direct member of the message class (names are unique within a message), so
                // handler code writes ProduceRequest.PartitionProduceData, not a three-level path.
                for (Struct nested : side.structs.values()) {
                    line("");
                    generateStruct(nested, false, PACKAGE + ".Message");
                }
            }
            indent--;
            line("}");
        }

        // ------------------------------------------------------------ read

        void generateRead(Struct struct, boolean top) {
            line("%sstatic %s readFrom(ByteBuf in, short version) {", top ? "private " : "", struct.name);
            indent++;
            line("%s message = new %s(true);", struct.name, struct.name);
            boolean anyFlexible = !side.flexible.and(struct.versions).isEmpty();
            if (anyFlexible) {
                line("boolean flexible = %s;", side.flexible.condition(struct.versions));
            }
            for (Field field : struct.fields) {
                String present = field.versions.condition(struct.versions);
                if (present.equals("false")) {
                    line("message.%s = %s;", field.javaName(), defaultValue(field));
                    continue;
                }
                Versions regular = regularVersions(field);
                String regularCondition = regular.condition(struct.versions);
                String assignDefault = "message." + field.javaName() + " = " + defaultValue(field) + ";";
                if (regularCondition.equals("false")) {
                    line(assignDefault); // tagged at every version: default unless the tagged section says otherwise
                    continue;
                }
                openIf(regularCondition);
                readField(field, struct, "message." + field.javaName());
                if (!regularCondition.equals("true")) {
                    indent--;
                    line("} else {");
                    indent++;
                    line(assignDefault);
                }
                closeIf(regularCondition);
            }
            if (anyFlexible) {
                line("if (flexible) {");
                indent++;
                line("int taggedCount = Primitives.readUnsignedVarint(in);");
                line("for (int i = 0; i < taggedCount; i++) {");
                indent++;
                line("int tag = Primitives.readUnsignedVarint(in);");
                line("int size = Primitives.readUnsignedVarint(in);");
                line("Primitives.checkReadable(in, size);");
                line("int end = in.readerIndex() + size;");
                List<Field> tagged = taggedFields(struct);
                if (!tagged.isEmpty()) {
                    line("switch (tag) {");
                    indent++;
                    for (Field field : tagged) {
                        line("case %d:", field.tag);
                        indent++;
                        String condition = field.tagged.condition(struct.versions);
                        line("if (%s) {", condition);
                        indent++;
                        readField(field, struct, "message." + field.javaName());
                        line("Primitives.checkTaggedFieldEnd(in, end, %d);", field.tag);
                        line("continue;");
                        indent--;
                        line("}");
                        line("break;");
                        indent--;
                    }
                    line("default:");
                    line("    break;");
                    indent--;
                    line("}");
                }
                line("message.unknownTaggedFields().add(Primitives.readRawTaggedField(in, tag, size));");
                indent--;
                line("}");
                indent--;
                line("}");
            }
            line("return message;");
            indent--;
            line("}");
            line("");
        }

        Versions regularVersions(Field field) {
            Versions result = new Versions();
            result.bits.or(field.versions.bits);
            result.bits.andNot(field.tagged.bits);
            return result;
        }

        List<Field> taggedFields(Struct struct) {
            List<Field> result = new ArrayList<>();
            for (Field field : struct.fields) {
                if (!field.tagged.and(struct.versions).isEmpty()) {
                    result.add(field);
                }
            }
            result.sort(Comparator.comparingInt(f -> f.tag));
            return result;
        }

        void openIf(String condition) {
            if (!condition.equals("true")) {
                line("if (%s) {", condition);
                indent++;
            }
        }

        void closeIf(String condition) {
            if (!condition.equals("true")) {
                indent--;
                line("}");
            }
        }

        String flexibleExpression(Field field, Struct struct) {
            if (field.neverFlexible || side.flexible.and(struct.versions).isEmpty()) {
                return "false";
            }
            return "flexible";
        }

        String nullCheck(Field field, Struct struct, String target) {
            Versions nullable = field.nullable;
            String condition = nullable.condition(field.versions.and(struct.versions));
            if (condition.equals("true")) {
                return null;
            }
            return "if (" + target + " == null" + (condition.equals("false") ? "" : " && !(" + condition + ")")
                    + ") {\n" + "    ".repeat(indent + 1) + "throw KafkaCodecException.nullField(\"" + struct.name + "."
                    + field.name + "\", version);\n" + "    ".repeat(indent) + "}";
        }

        void readField(Field field, Struct struct, String target) {
            String flexible = flexibleExpression(field, struct);
            String element = field.elementType();
            if (field.isArray()) {
                String local = "_" + field.javaName() + "Count";
                int minimumElementBytes = Math.max(1, fixedSize(element));
                line("int %s = Primitives.readArrayLength(in, %s, %d);", local, flexible, minimumElementBytes);
                line("if (%s < 0) {", local);
                indent++;
                line("%s = null;", target);
                indent--;
                line("} else {");
                indent++;
                String elementJava = boxed(element);
                line("java.util.ArrayList<%s> list = new java.util.ArrayList<>(Primitives.initialCapacity(%s));", elementJava, local);
                line("for (int j = 0; j < %s; j++) {", local);
                line("    list.add(%s);", readExpression(element, flexible, field));
                line("}");
                line("%s = list;", target);
                indent--;
                line("}");
                emitNullCheck(field, struct, target);
            } else if (field.isStructType()) {
                if (!field.nullable.isEmpty()) {
                    String condition = field.nullable.condition(struct.versions);
                    line("if ((%s) && in.readByte() < 0) {", condition);
                    line("    %s = null;", target);
                    line("} else {");
                    line("    %s = %s.readFrom(in, version);", target, element);
                    line("}");
                } else {
                    line("%s = %s.readFrom(in, version);", target, element);
                }
            } else {
                line("%s = %s;", target, readExpression(element, flexible, field));
                if (isNullableType(element)) {
                    emitNullCheck(field, struct, target);
                }
            }
        }

        void emitNullCheck(Field field, Struct struct, String target) {
            if (!field.isArray() && !field.isStructType() && !isNullableType(field.elementType())) {
                return;
            }
            String check = nullCheck(field, struct, target);
            if (check != null) {
                for (String part : check.split("\n")) {
                    out.append(part.startsWith(" ") ? part : "    ".repeat(indent) + part).append('\n');
                }
            }
        }

        String readExpression(String type, String flexible, Field field) {
            switch (type) {
                case "bool":
                    return "in.readByte() != 0";
                case "int8":
                    return "in.readByte()";
                case "int16":
                    return "in.readShort()";
                case "uint16":
                    return "in.readUnsignedShort()";
                case "int32":
                    return "in.readInt()";
                case "uint32":
                    return "in.readUnsignedInt()";
                case "int64":
                    return "in.readLong()";
                case "float64":
                    return "in.readDouble()";
                case "uuid":
                    return "Primitives.readUuid(in)";
                case "string":
                    return "Primitives.readString(in, " + flexible + ")";
                case "bytes":
                    return field.zeroCopy ? "Primitives.readBytesSlice(in, " + flexible + ")"
                            : "Primitives.readBytes(in, " + flexible + ")";
                case "records":
                    return "Primitives.readBytesSlice(in, " + flexible + ")";
                default:
                    return type + ".readFrom(in, version)";
            }
        }

        // ------------------------------------------------------------ write

        void generateWrite(Struct struct, boolean top) {
            line("@Override");
            line("public void write(ByteBuf out, short version) {");
            indent++;
            if (top) {
                line("checkVersion(version);");
            }
            boolean anyFlexible = !side.flexible.and(struct.versions).isEmpty();
            if (anyFlexible) {
                line("boolean flexible = %s;", side.flexible.condition(struct.versions));
            }
            for (Field field : struct.fields) {
                String regularCondition = regularVersions(field).condition(struct.versions);
                if (regularCondition.equals("false")) {
                    continue;
                }
                openIf(regularCondition);
                emitNullCheck(field, struct, "this." + field.javaName());
                writeField(field, struct, "this." + field.javaName(), flexibleExpression(field, struct));
                closeIf(regularCondition);
            }
            if (anyFlexible) {
                line("if (flexible) {");
                indent++;
                List<Field> tagged = taggedFields(struct);
                line("int taggedCount = unknownTaggedFields == null ? 0 : unknownTaggedFields.size();");
                for (Field field : tagged) {
                    line("if ((%s) && %s) {", field.tagged.condition(struct.versions), nonDefault(field, "this." + field.javaName()));
                    line("    taggedCount++;");
                    line("}");
                }
                line("Primitives.writeUnsignedVarint(out, taggedCount);");
                line("int rawIndex = 0;");
                for (Field field : tagged) {
                    line("rawIndex = Primitives.writeRawTaggedFieldsBelow(out, unknownTaggedFields, rawIndex, %d);", field.tag);
                    line("if ((%s) && %s) {", field.tagged.condition(struct.versions), nonDefault(field, "this." + field.javaName()));
                    indent++;
                    line("Primitives.writeUnsignedVarint(out, %d);", field.tag);
                    line("Primitives.writeUnsignedVarint(out, %s);", sizeExpression(field, "this." + field.javaName(), "true"));
                    writeField(field, struct, "this." + field.javaName(), "true");
                    indent--;
                    line("}");
                }
                line("Primitives.writeRawTaggedFieldsBelow(out, unknownTaggedFields, rawIndex, Integer.MAX_VALUE);");
                indent--;
                line("}");
            }
            indent--;
            line("}");
            line("");
        }

        void writeField(Field field, Struct struct, String value, String flexible) {
            String element = field.elementType();
            if (field.isArray()) {
                line("if (%s == null) {", value);
                line("    Primitives.writeArrayLength(out, -1, %s);", flexible);
                line("} else {");
                indent++;
                line("Primitives.writeArrayLength(out, %s.size(), %s);", value, flexible);
                String elementJava = boxed(element);
                line("for (int i = 0, n = %s.size(); i < n; i++) {", value);
                indent++;
                line("%s element = %s.get(i);", elementJava, value);
                writeValue(element, "element", flexible, field);
                indent--;
                line("}");
                indent--;
                line("}");
            } else if (field.isStructType()) {
                if (!field.nullable.isEmpty()) {
                    String condition = field.nullable.condition(struct.versions);
                    line("if (%s) {", condition);
                    line("    out.writeByte(%s == null ? -1 : 1);", value);
                    line("}");
                    line("if (%s != null) {", value);
                    line("    %s.write(out, version);", value);
                    line("}");
                } else {
                    line("%s.write(out, version);", value);
                }
            } else {
                writeValue(element, value, flexible, field);
            }
        }

        void writeValue(String type, String value, String flexible, Field field) {
            switch (type) {
                case "bool" -> line("out.writeByte(%s ? 1 : 0);", value);
                case "int8" -> line("out.writeByte(%s);", value);
                case "int16", "uint16" -> line("out.writeShort(%s);", value);
                case "int32" -> line("out.writeInt(%s);", value);
                case "uint32" -> line("out.writeInt((int) %s);", value);
                case "int64" -> line("out.writeLong(%s);", value);
                case "float64" -> line("out.writeDouble(%s);", value);
                case "uuid" -> line("Primitives.writeUuid(out, %s);", value);
                case "string" -> line("Primitives.writeString(out, %s, %s);", value, flexible);
                case "bytes" -> line("Primitives.writeBytes(out, %s, %s);", value, flexible);
                case "records" -> line("Primitives.writeRecords(out, %s, %s);", value, flexible);
                default -> line("%s.write(out, version);", value);
            }
        }

        // ------------------------------------------------------------ size

        void generateSizeOfArray(Struct struct) {
            line("static int sizeOfArray(java.util.List<%s> list, short version, boolean flexible) {", struct.name);
            indent++;
            line("if (list == null) {");
            line("    return flexible ? 1 : 4;");
            line("}");
            line("int size = flexible ? Primitives.sizeOfUnsignedVarint(list.size() + 1) : 4;");
            line("for (int i = 0, n = list.size(); i < n; i++) {");
            line("    size += list.get(i).size(version);");
            line("}");
            line("return size;");
            indent--;
            line("}");
            line("");
        }

        void generateSize(Struct struct, boolean top) {
            line("@Override");
            line("public int size(short version) {");
            indent++;
            if (top) {
                line("checkVersion(version);");
            }
            line("int size = 0;");
            boolean anyFlexible = !side.flexible.and(struct.versions).isEmpty();
            if (anyFlexible) {
                line("boolean flexible = %s;", side.flexible.condition(struct.versions));
            }
            for (Field field : struct.fields) {
                String regularCondition = regularVersions(field).condition(struct.versions);
                if (regularCondition.equals("false")) {
                    continue;
                }
                openIf(regularCondition);
                line("size += %s;", sizeExpression(field, "this." + field.javaName(), flexibleExpression(field, struct)));
                closeIf(regularCondition);
            }
            if (anyFlexible) {
                line("if (flexible) {");
                indent++;
                line("int taggedCount = 0;");
                line("if (unknownTaggedFields != null) {");
                line("    taggedCount = unknownTaggedFields.size();");
                line("    size += Primitives.sizeOfRawTaggedFields(unknownTaggedFields);");
                line("}");
                for (Field field : taggedFields(struct)) {
                    line("if ((%s) && %s) {", field.tagged.condition(struct.versions), nonDefault(field, "this." + field.javaName()));
                    indent++;
                    line("taggedCount++;");
                    line("int fieldSize = %s;", sizeExpression(field, "this." + field.javaName(), "true"));
                    line("size += Primitives.sizeOfUnsignedVarint(%d) + Primitives.sizeOfUnsignedVarint(fieldSize) + fieldSize;", field.tag);
                    indent--;
                    line("}");
                }
                line("size += Primitives.sizeOfUnsignedVarint(taggedCount);");
                indent--;
                line("}");
            }
            line("return size;");
            indent--;
            line("}");
            line("");
        }

        String sizeExpression(Field field, String value, String flexible) {
            String element = field.elementType();
            if (field.isArray()) {
                int fixed = fixedSize(element);
                if (fixed > 0) {
                    return "Primitives.sizeOfFixedArray(" + value + ", " + fixed + ", " + flexible + ")";
                }
                if (element.equals("string")) {
                    return "Primitives.sizeOfStringArray(" + value + ", " + flexible + ")";
                }
                // A static helper per element class keeps the call monomorphic (inlinable), unlike Message.size.
                return field.elementType() + ".sizeOfArray(" + value + ", version, " + flexible + ")";
            }
            if (field.isStructType()) {
                if (!field.nullable.isEmpty()) {
                    return "((" + field.nullable.condition(field.versions) + ") ? 1 : 0) + (" + value + " == null ? 0 : "
                            + value + ".size(version))";
                }
                return value + ".size(version)";
            }
            int fixed = fixedSize(element);
            if (fixed > 0) {
                return Integer.toString(fixed);
            }
            return switch (element) {
                case "string" -> "Primitives.sizeOfString(" + value + ", " + flexible + ")";
                case "bytes", "records" -> "Primitives.sizeOfBytes(" + value + ", " + flexible + ")";
                default -> throw new IllegalStateException("no size for " + element);
            };
        }

        static int fixedSize(String type) {
            return switch (type) {
                case "bool", "int8" -> 1;
                case "int16", "uint16" -> 2;
                case "int32", "uint32" -> 4;
                case "int64", "float64" -> 8;
                case "uuid" -> 16;
                default -> 0;
            };
        }

        // ------------------------------------------------------------ defaults, equality

        /** Whether a tagged field holds something other than its default, so that it must be written. */
        String nonDefault(Field field, String value) {
            String element = field.elementType();
            boolean defaultNull = "null".equals(field.defaultToken);
            if (field.isArray()) {
                return defaultNull ? value + " != null" : "(" + value + " == null || !" + value + ".isEmpty())";
            }
            if (field.isStructType()) {
                return defaultNull ? value + " != null" : "!" + value + ".equals(" + element + ".DEFAULT_INSTANCE)";
            }
            return switch (element) {
                case "string" -> defaultNull ? value + " != null"
                        : "!" + defaultValue(field) + ".equals(" + value + ")";
                case "bytes", "records" -> defaultNull ? value + " != null" : "Primitives.isNotEmpty(" + value + ")";
                case "uuid" -> "!" + defaultValue(field) + ".equals(" + value + ")";
                case "float64" -> "Double.compare(" + value + ", " + defaultValue(field) + ") != 0";
                default -> value + " != " + defaultValue(field);
            };
        }

        String javaType(Field field) {
            if (field.isArray()) {
                return "java.util.List<" + boxed(field.elementType()) + ">";
            }
            return unboxed(field.elementType(), field);
        }

        String unboxed(String type, Field field) {
            return switch (type) {
                case "bool" -> "boolean";
                case "int8" -> "byte";
                case "int16" -> "short";
                case "uint16", "int32" -> "int";
                case "uint32", "int64" -> "long";
                case "float64" -> "double";
                case "uuid" -> "java.util.UUID";
                case "string" -> "String";
                case "bytes" -> field != null && field.zeroCopy ? "ByteBuf" : "byte[]";
                case "records" -> "ByteBuf";
                default -> type;
            };
        }

        String boxed(String type) {
            return switch (type) {
                case "bool" -> "Boolean";
                case "int8" -> "Byte";
                case "int16" -> "Short";
                case "uint16", "int32" -> "Integer";
                case "uint32", "int64" -> "Long";
                case "float64" -> "Double";
                default -> unboxed(type, null);
            };
        }

        static boolean isNullableType(String type) {
            return type.equals("string") || type.equals("bytes") || type.equals("records");
        }

        String defaultValue(Field field) {
            String token = field.defaultToken;
            String element = field.elementType();
            if (field.isArray()) {
                return "null".equals(token) ? "null" : "new java.util.ArrayList<>(0)";
            }
            if (field.isStructType()) {
                return "null".equals(token) ? "null" : "new " + element + "()";
            }
            switch (element) {
                case "bool":
                    return token == null ? "false" : token;
                case "int8":
                    return "(byte) " + number(token);
                case "int16":
                    return "(short) " + number(token);
                case "uint16":
                case "int32":
                    return number(token);
                case "uint32":
                case "int64":
                    return number(token) + "L";
                case "float64":
                    return token == null ? "0.0" : token;
                case "uuid":
                    return "Primitives.ZERO_UUID";
                case "string":
                    if ("null".equals(token)) {
                        return "null";
                    }
                    return token == null || token.equals("\"\"") ? "\"\"" : "\"" + token + "\"";
                case "bytes":
                    if ("null".equals(token) || field.zeroCopy) {
                        return "null".equals(token) ? "null" : "io.netty.buffer.Unpooled.EMPTY_BUFFER";
                    }
                    return "Primitives.EMPTY_BYTES";
                case "records":
                    return "null";
                default:
                    throw new IllegalStateException("unknown type " + element);
            }
        }

        static String number(String token) {
            if (token == null) {
                return "0";
            }
            if (token.startsWith("0x")) {
                return Long.toString(Long.parseLong(token.substring(2), 16));
            }
            return token;
        }

        void generateEquals(Struct struct) {
            line("@Override");
            line("public boolean equals(Object other) {");
            indent++;
            line("if (this == other) {");
            line("    return true;");
            line("}");
            line("if (!(other instanceof %s)) {", struct.name);
            line("    return false;");
            line("}");
            line("%s that = (%s) other;", struct.name, struct.name);
            for (Field field : struct.fields) {
                String a = "this." + field.javaName();
                String b = "that." + field.javaName();
                String test;
                String type = field.isArray() ? "array" : field.elementType();
                test = switch (type) {
                    case "bool", "int8", "int16", "uint16", "int32", "uint32", "int64" -> a + " != " + b;
                    case "float64" -> "Double.compare(" + a + ", " + b + ") != 0";
                    case "bytes" -> field.zeroCopy ? "!java.util.Objects.equals(" + a + ", " + b + ")"
                            : "!java.util.Arrays.equals(" + a + ", " + b + ")";
                    default -> "!java.util.Objects.equals(" + a + ", " + b + ")";
                };
                line("if (%s) {", test);
                line("    return false;");
                line("}");
            }
            line("return Primitives.sameRawTaggedFields(this.unknownTaggedFields, that.unknownTaggedFields);");
            indent--;
            line("}");
            line("");
            line("@Override");
            line("public int hashCode() {");
            indent++;
            line("int hash = 0;");
            for (Field field : struct.fields) {
                String a = "this." + field.javaName();
                String type = field.isArray() ? "array" : field.elementType();
                String h = switch (type) {
                    case "bool" -> "Boolean.hashCode(" + a + ")";
                    case "int8", "int16", "uint16", "int32" -> a;
                    case "uint32", "int64" -> "Long.hashCode(" + a + ")";
                    case "float64" -> "Double.hashCode(" + a + ")";
                    case "bytes" -> field.zeroCopy ? "java.util.Objects.hashCode(" + a + ")" : "java.util.Arrays.hashCode(" + a + ")";
                    default -> "java.util.Objects.hashCode(" + a + ")";
                };
                line("hash = 31 * hash + %s;", h);
            }
            line("return hash;");
            indent--;
            line("}");
            line("");
        }

        void generateToString(Struct struct) {
            line("@Override");
            line("public String toString() {");
            indent++;
            StringBuilder expression = new StringBuilder("\"" + struct.name + "(\"");
            boolean first = true;
            for (Field field : struct.fields) {
                String a = "this." + field.javaName();
                String rendered = switch (field.isArray() ? "array" : field.elementType()) {
                    case "bytes", "records" -> "Primitives.describeBytes(" + a + ")";
                    default -> a;
                };
                expression.append("\n").append("    ".repeat(indent + 2)).append("+ \"").append(first ? "" : ", ")
                        .append(field.javaName()).append("=\" + ").append(rendered);
                first = false;
            }
            expression.append(" + \")\"");
            line("return %s;", expression.toString());
            indent--;
            line("}");
        }
    }

    // ---------------------------------------------------------------- ApiKey and Errors

    static String constantName(String camel) {
        StringBuilder result = new StringBuilder();
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            boolean upper = Character.isUpperCase(c);
            if (i > 0 && upper) {
                char previous = camel.charAt(i - 1);
                boolean nextLower = i + 1 < camel.length() && Character.isLowerCase(camel.charAt(i + 1));
                if (Character.isLowerCase(previous) || Character.isDigit(previous)
                        || (Character.isUpperCase(previous) && nextLower)) {
                    result.append('_');
                }
            }
            result.append(Character.toUpperCase(c));
        }
        return result.toString();
    }

    static int flexibleFrom(Side side) {
        if (side.flexible.isEmpty()) {
            return Short.MAX_VALUE;
        }
        int from = side.flexible.min();
        if (side.flexible.bits.nextClearBit(from) <= side.versions.max()) {
            throw new IllegalArgumentException(side.className + ": flexible versions must be one open range");
        }
        return from;
    }

    static String generateApiKey(List<Api> apis) {
        StringBuilder out = new StringBuilder();
        out.append("// Generated by kafka-wire/generator/Generator.java from src/main/schemas. Do not edit.\n");
        out.append("package ").append(PACKAGE).append(";\n\n");
        out.append("import io.netty.buffer.ByteBuf;\n\n");
        out.append("""
                /**
                 * Every Kafka API key this codec knows, with the versions it can decode and encode.
                 *
                 * <p>{@link #minVersion()}..{@link #maxVersion()} is the stable range (what a broker may advertise);
                 * {@link #latestVersion()} may be one higher when the newest version is not yet stable upstream.
                 */
                public enum ApiKey {
                """);
        for (int i = 0; i < apis.size(); i++) {
            Api api = apis.get(i);
            Side request = api.request;
            int latest = request.versions.max();
            int stableMax = request.unstable == latest ? latest - 1 : latest;
            if (!request.versions.bits.equals(api.response.versions.bits)) {
                throw new IllegalArgumentException(api.name + ": request and response versions differ");
            }
            if (flexibleFrom(request) != flexibleFrom(api.response)) {
                throw new IllegalArgumentException(api.name + ": request and response flexible versions differ");
            }
            out.append(String.format(Locale.ROOT, "    %s(%d, \"%s\", %d, %d, %d, %d, %d, %d)%s%n", constantName(api.name),
                    api.key, api.name, request.versions.min(), stableMax, latest, flexibleFrom(request),
                    request.header0Max, api.response.fixedHeader, i == apis.size() - 1 ? ";" : ","));
        }
        int maxKey = apis.get(apis.size() - 1).key;
        out.append("""

                    private static final ApiKey[] BY_ID = new ApiKey[%d];

                    static {
                        for (ApiKey key : values()) {
                            BY_ID[key.id] = key;
                        }
                    }

                    private final short id;
                    private final String apiName;
                    private final short minVersion;
                    private final short maxVersion;
                    private final short latestVersion;
                    private final short flexibleFromVersion;
                    private final short requestHeaderV0MaxVersion;
                    private final short fixedResponseHeaderVersion;

                    ApiKey(int id, String apiName, int minVersion, int maxVersion, int latestVersion, int flexibleFromVersion,
                           int requestHeaderV0MaxVersion, int fixedResponseHeaderVersion) {
                        this.id = (short) id;
                        this.apiName = apiName;
                        this.minVersion = (short) minVersion;
                        this.maxVersion = (short) maxVersion;
                        this.latestVersion = (short) latestVersion;
                        this.flexibleFromVersion = (short) flexibleFromVersion;
                        this.requestHeaderV0MaxVersion = (short) requestHeaderV0MaxVersion;
                        this.fixedResponseHeaderVersion = (short) fixedResponseHeaderVersion;
                    }

                    /** The key for a wire id, or null when no such API exists. */
                    public static ApiKey forId(int id) {
                        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
                    }

                    public short id() {
                        return id;
                    }

                    /** Kafka's name for the API, e.g. "Produce". */
                    public String apiName() {
                        return apiName;
                    }

                    public short minVersion() {
                        return minVersion;
                    }

                    /** The newest stable version. */
                    public short maxVersion() {
                        return maxVersion;
                    }

                    /** The newest version the codec knows, possibly not yet stable upstream. */
                    public short latestVersion() {
                        return latestVersion;
                    }

                    /** The first version using flexible (compact, tagged) encoding; Short.MAX_VALUE if none. */
                    public short flexibleFromVersion() {
                        return flexibleFromVersion;
                    }

                    public boolean isFlexible(short version) {
                        return version >= flexibleFromVersion;
                    }

                    public boolean isSupported(short version) {
                        return version >= minVersion && version <= latestVersion;
                    }

                    /** Request header version a client uses for this API at {@code version}: 0, 1 or 2. */
                    public short requestHeaderVersion(short version) {
                        if (version <= requestHeaderV0MaxVersion) {
                            return 0;
                        }
                        return (short) (isFlexible(version) ? 2 : 1);
                    }

                    /** Response header version for this API at {@code version}; ApiVersions always answers with v0. */
                    public short responseHeaderVersion(short version) {
                        if (fixedResponseHeaderVersion >= 0) {
                            return fixedResponseHeaderVersion;
                        }
                        return (short) (isFlexible(version) ? 1 : 0);
                    }

                """.formatted(maxKey + 1));
        for (String kind : new String[] {"Request", "Response"}) {
            out.append("    /** Decodes a ").append(kind.toLowerCase(Locale.ROOT))
                    .append(" body of this API; see the message classes for the slice rules. */\n");
            out.append("    public ApiMessage read").append(kind).append("(ByteBuf in, short version) {\n");
            out.append("        return switch (this) {\n");
            for (Api api : apis) {
                out.append("            case ").append(constantName(api.name)).append(" -> ").append(MESSAGE_PACKAGE)
                        .append('.').append(api.name).append(kind).append(".read(in, version);\n");
            }
            out.append("        };\n    }\n\n");
            out.append("    /** A new, empty ").append(kind.toLowerCase(Locale.ROOT)).append(" of this API. */\n");
            out.append("    public ApiMessage new").append(kind).append("() {\n");
            out.append("        return switch (this) {\n");
            for (Api api : apis) {
                out.append("            case ").append(constantName(api.name)).append(" -> new ").append(MESSAGE_PACKAGE)
                        .append('.').append(api.name).append(kind).append("();\n");
            }
            out.append("        };\n    }\n\n");
        }
        out.append("}\n");
        return out.toString();
    }

    /** A Java string literal for text from a schema file. */
    static String javaString(String text) {
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    static String generateErrors(List<String[]> errors) {
        StringBuilder out = new StringBuilder();
        out.append("// Generated by kafka-wire/generator/Generator.java from src/main/schemas/errors.kws. Do not edit.\n");
        out.append("package ").append(PACKAGE).append(";\n\n");
        out.append("/** Kafka protocol error codes, with Kafka's names. */\n");
        out.append("public enum Errors {\n");
        TreeMap<Integer, String> byCode = new TreeMap<>();
        for (int i = 0; i < errors.size(); i++) {
            String[] e = errors.get(i);
            int code = Integer.parseInt(e[1]);
            if (byCode.put(code, e[2]) != null) {
                throw new IllegalArgumentException("error code " + code + " defined twice");
            }
            boolean retriable = e.length > 3 && e[3].equals("retriable");
            int messageAt = retriable ? 4 : 3;
            String message = null;
            if (e.length > messageAt) {
                if (!e[messageAt].equals("message") || e.length == messageAt + 1) {
                    throw new IllegalArgumentException("error " + code + ": expected [retriable] [message TEXT]");
                }
                message = String.join(" ", java.util.Arrays.copyOfRange(e, messageAt + 1, e.length));
            }
            out.append(String.format(Locale.ROOT, "    %s(%d, %s, %s)%s%n", e[2], code, retriable,
                    message == null ? "null" : javaString(message), i == errors.size() - 1 ? ";" : ","));
        }
        int max = byCode.lastKey();
        out.append("""

                    private static final Errors[] BY_CODE = new Errors[%d];

                    static {
                        for (Errors error : values()) {
                            if (error.code >= 0) {
                                BY_CODE[error.code] = error;
                            }
                        }
                    }

                    private final short code;
                    private final boolean retriable;
                    private final String message;

                    Errors(int code, boolean retriable, String message) {
                        this.code = (short) code;
                        this.retriable = retriable;
                        this.message = message;
                    }

                    public short code() {
                        return code;
                    }

                    /**
                     * The message Kafka sends for this error when the failure has no more specific one (Kafka's
                     * {@code Errors.message()}: its exception's default message, or the name for NONE).
                     */
                    public String message() {
                        return message == null ? name() : message;
                    }

                    /** Whether a client may retry the request that failed with this error. */
                    public boolean isRetriable() {
                        return retriable;
                    }

                    /** The error for a wire code; UNKNOWN_SERVER_ERROR for codes this table does not know. */
                    public static Errors forCode(int code) {
                        if (code >= 0 && code < BY_CODE.length && BY_CODE[code] != null) {
                            return BY_CODE[code];
                        }
                        return UNKNOWN_SERVER_ERROR;
                    }
                }
                """.formatted(max + 1));
        return out.toString();
    }
}
