package io.tandem.server.console;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Bytes as the console shows them: the first {@code limit} bytes as text (when they are UTF-8) or as hex, with the full
 * length and whether the shown part was cut. Null stays null, so a null key and an empty key look different.
 */
final class ShownBytes {
    /** How to show bytes: text when they decode as UTF-8 (else hex), or always hex. */
    enum Format {
        TEXT, HEX;

        static Format parse(String text) {
            if (text == null || text.isEmpty() || text.equals("text")) return TEXT;
            if (text.equals("hex")) return HEX;
            throw new IllegalArgumentException("format must be text or hex, not '" + text + "'");
        }
    }

    private ShownBytes() {
    }

    /** {"encoding": "text"|"hex", "shown": ..., "length": n, "truncated": bool}, or null for null bytes. */
    static Map<String, Object> of(byte[] bytes, int limit, Format format) {
        if (bytes == null) return null;
        int shownLength = Math.min(bytes.length, limit);
        Map<String, Object> json = new LinkedHashMap<>();
        String text = format == Format.TEXT ? utf8(bytes, shownLength) : null;
        json.put("encoding", text == null ? "hex" : "text");
        json.put("shown", text != null ? text : HexFormat.of().formatHex(bytes, 0, shownLength));
        json.put("length", bytes.length);
        json.put("truncated", shownLength < bytes.length);
        return json;
    }

    /**
     * The first {@code length} bytes as UTF-8, or null when they are not. A cut may split a character: up to three
     * trailing bytes of an unfinished sequence are dropped rather than turning the whole value into hex.
     */
    private static String utf8(byte[] bytes, int length) {
        int end = length;
        for (int dropped = 0; dropped <= 3 && end >= 0; dropped++, end--) {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 0, end))
                        .toString();
            } catch (CharacterCodingException e) {
                if (length == bytes.length) return null;
            }
        }
        return null;
    }
}
