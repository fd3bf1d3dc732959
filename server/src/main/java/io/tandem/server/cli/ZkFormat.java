package io.tandem.server.cli;

import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.data.Stat;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** zkCli's text forms: stat lines, ACLs as {@code scheme:id:perms}, and data as text or base64 for JSON. */
public final class ZkFormat {
    private ZkFormat() {
    }

    /** The stat block zkCli prints, field for field. */
    static void printStat(PrintWriter out, Stat stat) {
        out.println("cZxid = 0x" + Long.toHexString(stat.czxid()));
        out.println("ctime = " + new Date(stat.ctime()));
        out.println("mZxid = 0x" + Long.toHexString(stat.mzxid()));
        out.println("mtime = " + new Date(stat.mtime()));
        out.println("pZxid = 0x" + Long.toHexString(stat.pzxid()));
        out.println("cversion = " + stat.cversion());
        out.println("dataVersion = " + stat.version());
        out.println("aclVersion = " + stat.aversion());
        out.println("ephemeralOwner = 0x" + Long.toHexString(stat.ephemeralOwner()));
        out.println("dataLength = " + stat.dataLength());
        out.println("numChildren = " + stat.numChildren());
    }

    /** The stat as JSON fields, with zkCli's names (dataVersion, aclVersion) and zxids in hex as zkCli shows them. */
    public static Map<String, Object> statJson(Stat stat) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("czxid", "0x" + Long.toHexString(stat.czxid()));
        json.put("ctime", stat.ctime());
        json.put("mzxid", "0x" + Long.toHexString(stat.mzxid()));
        json.put("mtime", stat.mtime());
        json.put("pzxid", "0x" + Long.toHexString(stat.pzxid()));
        json.put("cversion", stat.cversion());
        json.put("dataVersion", stat.version());
        json.put("aclVersion", stat.aversion());
        json.put("ephemeralOwner", "0x" + Long.toHexString(stat.ephemeralOwner()));
        json.put("dataLength", stat.dataLength());
        json.put("numChildren", stat.numChildren());
        return json;
    }

    /** Puts {@code data} under "data" when it is UTF-8 text (null stays null), else base64 under "dataBase64". */
    static void putData(Map<String, Object> json, byte[] data) {
        if (data == null) {
            json.put("data", null);
            return;
        }
        try {
            json.put("data", StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data)).toString());
        } catch (CharacterCodingException e) {
            json.put("dataBase64", Base64.getEncoder().encodeToString(data));
        }
    }

    /** Data as zkCli prints it: the bytes as UTF-8, or "null" for a null buffer. */
    static String text(byte[] data) {
        return data == null ? "null" : new String(data, StandardCharsets.UTF_8);
    }

    static String acl(ACL acl) {
        return acl.id().scheme() + ":" + acl.id().id() + ":" + perms(acl.perms());
    }

    /** Permission letters in zkCli's order: c d r w a. */
    public static String perms(int perms) {
        StringBuilder letters = new StringBuilder();
        if ((perms & Perms.CREATE) != 0) {
            letters.append('c');
        }
        if ((perms & Perms.DELETE) != 0) {
            letters.append('d');
        }
        if ((perms & Perms.READ) != 0) {
            letters.append('r');
        }
        if ((perms & Perms.WRITE) != 0) {
            letters.append('w');
        }
        if ((perms & Perms.ADMIN) != 0) {
            letters.append('a');
        }
        return letters.toString();
    }

    /**
     * Parses zkCli's ACL syntax: {@code scheme:id:perms[,scheme:id:perms...]}, e.g. {@code world:anyone:cdrwa} or
     * {@code digest:user:hash=:r}. The id may contain colons; the scheme ends at the first, the perms follow the last.
     */
    static List<ACL> parseAcls(String text) {
        List<ACL> acls = new ArrayList<>();
        for (String entry : text.split(",")) {
            String trimmed = entry.trim();
            int first = trimmed.indexOf(':');
            int last = trimmed.lastIndexOf(':');
            if (first <= 0 || last == first) {
                throw new IllegalArgumentException("'" + trimmed + "' is not scheme:id:perms");
            }
            String scheme = trimmed.substring(0, first);
            String id = trimmed.substring(first + 1, last);
            acls.add(new ACL(parsePerms(trimmed.substring(last + 1), trimmed), new Id(scheme, id)));
        }
        return acls;
    }

    private static int parsePerms(String letters, String entry) {
        int perms = 0;
        for (char letter : letters.toCharArray()) {
            perms |= switch (letter) {
                case 'c' -> Perms.CREATE;
                case 'd' -> Perms.DELETE;
                case 'r' -> Perms.READ;
                case 'w' -> Perms.WRITE;
                case 'a' -> Perms.ADMIN;
                default -> throw new IllegalArgumentException("unknown permission '" + letter + "' in '" + entry
                        + "' (use c, d, r, w, a)");
            };
        }
        return perms;
    }
}
