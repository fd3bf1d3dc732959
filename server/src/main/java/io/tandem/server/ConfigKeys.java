package io.tandem.server;

import io.tandem.server.kafka.BrokerConfigPolicy;
import io.tandem.server.zookeeper.ZooKeeperConfigKeys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.regex.Pattern;

/**
 * What Tandem does with every configuration key it is given, so that the configuration never claims what is not done.
 * Each side keeps its own exact table: zoo.cfg keys in {@link ZooKeeperConfigKeys}, Kafka's server.properties keys in
 * {@link BrokerConfigPolicy}; this class adds Tandem's own keys and turns the verdicts into start-up warnings (a key
 * that is ignored, one line per key) and refusals (a key whose silent absence would weaken security or change
 * behaviour users rely on: the node does not start).
 */
public final class ConfigKeys {
    private static final Logger LOG = System.getLogger(ConfigKeys.class.getName());

    /** Tandem's own keys: which roles run ({@code --roles}). */
    public static final String ROLES = "roles";
    /** Tandem's own key: {@code memory} keeps no ZooKeeper data (throwaway test servers), else {@code disk}. */
    public static final String ZOOKEEPER_STORE = "zookeeper.store";
    /** Tandem's own key: this ensemble member's id, instead of the {@code myid} file. */
    public static final String MYID = "myid";
    /** Tandem's own keys: the Prometheus endpoint's port (off unless set; 0 = any free port) and bind address. */
    public static final String METRICS_PORT = "metrics.port";
    public static final String METRICS_ADDRESS = "metrics.address";
    /**
     * Tandem's own keys: the fault injection HTTP endpoint's port (off unless set: it lets anyone who reaches it break
     * the node; 0 = any free port) and bind address ({@code tandem fault}).
     */
    public static final String FAULT_PORT = "fault.port";
    public static final String FAULT_ADDRESS = "fault.address";
    /** Tandem's own keys: the web console's port (off unless set; 0 = any free port) and bind address. */
    public static final String CONSOLE_PORT = io.tandem.server.console.ConsoleServer.PORT;
    public static final String CONSOLE_ADDRESS = io.tandem.server.console.ConsoleServer.ADDRESS;
    private static final Set<String> TANDEM_KEYS = Set.of(ROLES, ZOOKEEPER_STORE, MYID, METRICS_ADDRESS,
            FAULT_ADDRESS, CONSOLE_ADDRESS);
    /** Values of these keys are secrets (or hashes of them) and never reach a log line. */
    private static final Pattern SECRET = Pattern.compile(
            "(?i).*(password|secret|jaas\\.config|superdigest|\\.key$|passphrase|certificate).*");

    /** What Tandem does with one key. */
    public enum Kind { IMPLEMENTED, IGNORED, REFUSED }

    /** A key's treatment and, unless implemented, why. */
    public record Verdict(Kind kind, String reason) {
        public static final Verdict IMPLEMENTED = new Verdict(Kind.IMPLEMENTED, null);

        public static Verdict ignored(String reason) {
            return new Verdict(Kind.IGNORED, reason);
        }

        public static Verdict refused(String reason) {
            return new Verdict(Kind.REFUSED, reason);
        }
    }

    /** The start-up report: one warning line per ignored key, one refusal line per refused key. */
    public record Report(List<String> warnings, List<String> refusals) {
    }

    private ConfigKeys() {
    }

    /** The verdict on one key; unknown keys (usually typos) are ignored with a warning. */
    public static Verdict verdict(String key, String value, Map<String, String> settings) {
        if (TANDEM_KEYS.contains(key)) return Verdict.IMPLEMENTED;
        if (key.equals(METRICS_PORT) || key.equals(FAULT_PORT) || key.equals(CONSOLE_PORT)) return port(value);
        // Kafka's ssl.* keys (lower case, ssl.keystore.location) are the broker's listeners'; ZooKeeper's own are
        // camel case (ssl.keyStore.location). ssl.protocol is both: only a TLS client port (refused) would read it
        // on the ZooKeeper side, so it goes to the broker.
        if (key.startsWith("ssl.") && io.tandem.server.kafka.BrokerConfigKeys.KAFKA.containsKey(key)) {
            return BrokerConfigPolicy.verdict(key, value, settings);
        }
        Verdict verdict = ZooKeeperConfigKeys.verdict(key, value, settings);
        if (verdict == null) verdict = BrokerConfigPolicy.verdict(key, value, settings);
        return verdict;
    }

    /** A TCP port to bind: 0 to 65535 (0 picks a free one). */
    public static Verdict port(String value) {
        try {
            int port = Integer.parseInt(value == null ? "" : value.trim());
            if (port >= 0 && port <= 65_535) return Verdict.IMPLEMENTED;
        } catch (NumberFormatException e) {
            // refused below
        }
        return Verdict.refused("not a port number (0 to 65535)");
    }

    /** Checks every setting; nothing is logged or thrown here. */
    public static Report check(Map<String, String> settings) {
        List<String> warnings = new ArrayList<>();
        List<String> refusals = new ArrayList<>();
        for (Map.Entry<String, String> e : settings.entrySet()) {
            String key = e.getKey();
            Verdict verdict = verdict(key, e.getValue(), settings);
            String shown = "'" + key + "' (value " + shown(key, e.getValue()) + ")";
            if (verdict == null) {
                warnings.add("Unknown configuration key " + shown + " is ignored");
            } else if (verdict.kind() == Kind.IGNORED) {
                warnings.add("Configuration key " + shown + " is ignored: " + verdict.reason());
            } else if (verdict.kind() == Kind.REFUSED) {
                refusals.add("Configuration key " + shown + " is not supported by Tandem: " + verdict.reason());
            }
        }
        return new Report(warnings, refusals);
    }

    /** Logs one warning per ignored key and refuses to go on when any key is refused. */
    public static void validate(Map<String, String> settings) {
        Report report = check(settings);
        for (String warning : report.warnings()) LOG.log(Level.WARNING, warning);
        if (!report.refusals().isEmpty()) throw new ConfigException(report.refusals());
    }

    private static String shown(String key, String value) {
        if (value == null) return "null";
        return SECRET.matcher(key).matches() ? "hidden" : "'" + value + "'";
    }
}
