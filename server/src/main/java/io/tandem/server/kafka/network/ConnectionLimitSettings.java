package io.tandem.server.kafka.network;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The connection count limits of Kafka's ConnectionQuotas, read from broker settings (static, or static under the
 * dynamic layers) with Kafka's parsing and checks:
 *
 * @param brokerMax      {@code max.connections}: over all listeners
 * @param perIpDefault   {@code max.connections.per.ip}
 * @param perIpOverrides {@code max.connections.per.ip.overrides}, resolved as Kafka resolves them (by name, once)
 * @param listenerMax    {@code listener.name.<listener>.max.connections}, by lower-case listener name. As Kafka reads
 *                       a listener's settings (its prefix over the broker's), a listener without its own takes
 *                       {@code max.connections}: see {@link #listenerMax(String)}
 */
public record ConnectionLimitSettings(int brokerMax, int perIpDefault, Map<InetAddress, Integer> perIpOverrides,
                                      Map<String, Integer> listenerMax) {
    public static final String MAX_CONNECTIONS = "max.connections";
    public static final String PER_IP = "max.connections.per.ip";
    public static final String PER_IP_OVERRIDES = "max.connections.per.ip.overrides";
    private static final String LISTENER_PREFIX = "listener.name.";
    /** Kafka's Utils.validHostPattern: the characters a host of max.connections.per.ip.overrides may have. */
    private static final Pattern VALID_HOST = Pattern.compile("([0-9a-zA-Z\\-%._:]*)");

    public ConnectionLimitSettings {
        perIpOverrides = Map.copyOf(perIpOverrides);
        listenerMax = Map.copyOf(listenerMax);
    }

    /** Kafka's defaults: no limit anywhere. */
    public static ConnectionLimitSettings unlimited(int brokerMax, int perIpDefault) {
        return new ConnectionLimitSettings(brokerMax, perIpDefault, Map.of(), Map.of());
    }

    /** The listener's own maximum, else the broker-wide one (Kafka's valuesWithPrefixOverride). */
    public int listenerMax(String listener) {
        return listenerMax.getOrDefault(listener.toLowerCase(Locale.ROOT), brokerMax);
    }

    /** The maximum of connections from {@code address}: its override, else max.connections.per.ip. */
    public int perIpMax(InetAddress address) {
        return perIpOverrides.getOrDefault(address, perIpDefault);
    }

    /**
     * The limits the settings give, checked as Kafka's KafkaConfig checks them; an IllegalArgumentException in Kafka's
     * words otherwise. Host names of the overrides are resolved here, as Kafka's ConnectionQuotas resolves them.
     */
    public static ConnectionLimitSettings from(Map<String, String> settings) {
        int brokerMax = intValue(settings, MAX_CONNECTIONS, Integer.MAX_VALUE);
        int perIp = intValue(settings, PER_IP, Integer.MAX_VALUE);
        Map<String, Integer> overrides = overrides(settings.get(PER_IP_OVERRIDES));
        Map<InetAddress, Integer> resolved = new HashMap<>();
        overrides.forEach((host, max) -> {
            try {
                resolved.put(InetAddress.getByName(host), max);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(PER_IP_OVERRIDES + " names a host that does not resolve: " + host);
            }
        });
        return new ConnectionLimitSettings(brokerMax, perIp, resolved, listenerMaxima(settings));
    }

    /**
     * Kafka's KafkaConfig checks of the per-address keys, in its order and words (null when they hold): the overrides
     * parse as {@code host:count} pairs, max.connections.per.ip is 0 only with overrides, and every host is valid.
     */
    public static String perIpProblem(String perIp, String overridesValue) {
        Map<String, Integer> overrides;
        try {
            overrides = parseOverrides(overridesValue);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        if (perIp != null && perIp.trim().equals("0") && overrides.isEmpty()) {
            return "requirement failed: " + PER_IP + " can be set to zero only if " + PER_IP_OVERRIDES
                    + " property is set.";
        }
        return invalidHosts(overrides);
    }

    /** The overrides as Kafka reads them, hosts checked; an IllegalArgumentException in Kafka's words otherwise. */
    static Map<String, Integer> overrides(String value) {
        Map<String, Integer> overrides = parseOverrides(value);
        String invalid = invalidHosts(overrides);
        if (invalid != null) throw new IllegalArgumentException(invalid);
        return overrides;
    }

    /**
     * {@code host:count,...} as Kafka's Csv.parseCsvMap splits it (the last colon separates the count, so IPv6
     * addresses may be written bare) and KafkaConfig turns each count into an Int, with the JDK's messages.
     */
    private static Map<String, Integer> parseOverrides(String value) {
        Map<String, Integer> overrides = new LinkedHashMap<>();
        if (value == null || value.isEmpty()) return overrides;
        Map<String, String> pairs = new LinkedHashMap<>();
        try {
            for (String pair : value.split("\\s*,\\s*")) {
                int colon = pair.lastIndexOf(':');
                pairs.put(pair.substring(0, colon).trim(), pair.substring(colon + 1).trim());
            }
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Error parsing configuration property '" + PER_IP_OVERRIDES + "': "
                    + e.getMessage());
        }
        pairs.forEach((host, count) -> overrides.put(host, Integer.parseInt(count)));
        return overrides;
    }

    /** Kafka's words for hosts Utils.validHostPattern refuses, null when all are valid. */
    private static String invalidHosts(Map<String, Integer> overrides) {
        StringBuilder invalid = new StringBuilder();
        for (String host : overrides.keySet()) {
            if (!VALID_HOST.matcher(host).matches()) invalid.append(invalid.isEmpty() ? "" : ",").append(host);
        }
        return invalid.isEmpty() ? null : PER_IP_OVERRIDES + " contains invalid addresses : " + invalid;
    }

    /** Each {@code listener.name.<listener>.max.connections} of the settings, by lower-case listener name. */
    static Map<String, Integer> listenerMaxima(Map<String, String> settings) {
        Map<String, Integer> maxima = new LinkedHashMap<>();
        settings.forEach((key, value) -> {
            String listener = listenerOf(key);
            if (listener != null && value != null) maxima.put(listener, Integer.parseInt(value.trim()));
        });
        return maxima;
    }

    /** The lower-case listener of a {@code listener.name.<listener>.max.connections} key, else null. */
    public static String listenerOf(String key) {
        String suffix = "." + MAX_CONNECTIONS;
        if (!key.startsWith(LISTENER_PREFIX) || !key.endsWith(suffix)) return null;
        String listener = key.substring(LISTENER_PREFIX.length(), key.length() - suffix.length());
        return listener.isEmpty() || listener.contains(".") ? null : listener.toLowerCase(Locale.ROOT);
    }

    private static int intValue(Map<String, String> settings, String key, int absent) {
        String value = settings.get(key);
        return value == null ? absent : Integer.parseInt(value.trim());
    }
}
