package io.tandem.server.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Kafka client properties as Kafka's console tools take them ({@code --consumer-property k=v} over
 * {@code --consumer.config FILE}, the flag winning). Only keys the command honours are accepted: any other key is
 * refused by name, never silently ignored. Security keys ({@code security.protocol}, {@code ssl.*}, {@code sasl.*})
 * are always accepted; they configure the connection.
 */
final class ClientProperties {
    private ClientProperties() {
    }

    /** Keys every Kafka command's connection honours, besides the security ones. */
    static final Set<String> CONNECTION_KEYS = Set.of("client.id", "request.timeout.ms");

    static boolean isSecurityKey(String key) {
        return key.equals("security.protocol") || key.startsWith("ssl.") || key.startsWith("sasl.");
    }

    /** Reads a properties file; null gives an empty map. */
    static Map<String, String> load(Path file) {
        Map<String, String> settings = new LinkedHashMap<>();
        if (file == null) {
            return settings;
        }
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new CliException(ExitCodes.USAGE, "cannot read " + file + ": " + e.getMessage());
        }
        new TreeSet<>(properties.stringPropertyNames()).forEach(key -> settings.put(key, properties.getProperty(key)));
        return settings;
    }

    /**
     * The file's properties overridden by the flag's, each checked against {@code known}.
     *
     * @param role "consumer" or "producer", for the error message
     */
    static Map<String, String> merge(Map<String, String> file, Map<String, String> flags, Set<String> known,
                                     String role) {
        Map<String, String> merged = new LinkedHashMap<>(file);
        merged.putAll(flags);
        for (String key : merged.keySet()) {
            if (!isSecurityKey(key) && !CONNECTION_KEYS.contains(key) && !known.contains(key)) {
                Set<String> offered = new TreeSet<>(known);
                offered.addAll(CONNECTION_KEYS);
                throw new IllegalArgumentException(role + " property '" + key + "' is not supported by tandem"
                        + " (it talks over the wire without Kafka's Java client); supported: " + offered
                        + ", security.protocol, ssl.*, sasl.*");
            }
        }
        return merged;
    }

    static int intValue(Map<String, String> properties, String key, int fallback) {
        String value = properties.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, not '" + value + "'");
        }
    }

    static boolean booleanValue(Map<String, String> properties, String key, boolean fallback) {
        String value = properties.get(key);
        if (value == null) {
            return fallback;
        }
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(key + " must be true or false, not '" + value + "'");
        };
    }
}
