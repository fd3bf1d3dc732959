package io.tandem.zk.wire;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * A four-letter-word admin command (ruok, srvr, stat, mntr, ...) sent instead of a ConnectRequest. Apache's server
 * reads the first length prefix of a connection as a possible command: four ASCII letters form an int far above any
 * frame limit, so the two cannot be confused. {@code stmk} carries an 8-byte trace mask after the word.
 */
public record FourLetterWord(String command, long traceMask) {

    /** Apache's "telnet close" pseudo-command: the bytes IAC IP IAC DO a telnet client sends on Ctrl-C. */
    public static final int TELNET_CLOSE_CODE = -720899;
    /**
     * What Apache's server answers, instead of its figures, to the words and AdminServer commands that need a running
     * ZooKeeperServer when none runs (an ensemble member without a leader).
     */
    public static final String NOT_SERVING = "This ZooKeeper instance is not currently serving requests";

    /** Every command Apache 3.9 recognises, by the int its four letters make. */
    private static final Map<Integer, String> COMMANDS = new TreeMap<>();

    static {
        for (String command : new String[] {"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk",
            "srvr", "srst", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash"}) {
            COMMANDS.put(code(command), command);
        }
        COMMANDS.put(TELNET_CLOSE_CODE, "telnet close");
    }

    /** The command whose four letters make this length prefix, or null when it is none. */
    public static String commandFor(int lengthPrefix) {
        return COMMANDS.get(lengthPrefix);
    }

    /** Whether the command is followed by an 8-byte argument. */
    public static boolean hasTraceMask(String command) {
        return "stmk".equals(command);
    }

    /** The int the four ASCII letters of {@code command} make when read as a big-endian length prefix. */
    public static int code(String command) {
        byte[] letters = command.getBytes(StandardCharsets.US_ASCII);
        if (letters.length != 4) {
            throw new IllegalArgumentException("not a four-letter word: " + command);
        }
        return (letters[0] & 0xff) << 24 | (letters[1] & 0xff) << 16 | (letters[2] & 0xff) << 8 | letters[3] & 0xff;
    }
}
