package io.tandem.server.kafka;

import io.tandem.server.ConfigKeys.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What Tandem does with each of Kafka's server.properties keys at start-up: honours it ({@link BrokerConfigKeys#IMPLEMENTED},
 * with Kafka's value checks), refuses it when ignoring it would weaken security or change behaviour users rely on (TLS,
 * SASL, ACLs, policies, more than one listener or log directory, ...), or ignores it with a warning. Keys Kafka does
 * not define are not this class's: it answers null for them.
 */
public final class BrokerConfigPolicy {
    /** The only security protocol Tandem speaks. */
    public static final String PLAINTEXT = "PLAINTEXT";
    /** Kafka's default listener.security.protocol.map: each protocol name maps to itself. */
    private static final Set<String> PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    /** Apache's two ZooKeeper client socket implementations: without TLS both speak plain TCP, as Tandem's client does. */
    private static final Set<String> PLAIN_ZOOKEEPER_SOCKETS = Set.of("org.apache.zookeeper.ClientCnxnSocketNIO",
            "org.apache.zookeeper.ClientCnxnSocketNetty");
    private static final String TLS_SASL = "TLS and SASL are not implemented (only PLAINTEXT)";

    private BrokerConfigPolicy() {
    }

    /** The verdict on a broker key, or null when Kafka does not define it. */
    public static Verdict verdict(String key, String value, Map<String, String> settings) {
        String v = value == null ? "" : value.trim();
        if (key.startsWith("ssl.") || key.startsWith("sasl.")) return Verdict.refused(TLS_SASL);
        if (key.startsWith("listener.name.")) return listenerOverride(key);
        if (key.startsWith("zookeeper.ssl.")) {
            return key.equals("zookeeper.ssl.client.enable") && v.equalsIgnoreCase("false") ? Verdict.IMPLEMENTED
                    : Verdict.refused("TLS to ZooKeeper is not implemented");
        }
        // The authorizer's own keys are not KafkaConfig's, but they belong to the broker all the same.
        if (key.equals("super.users")) {
            return v.isEmpty() ? Verdict.IMPLEMENTED : Verdict.refused("ACL authorization is not implemented");
        }
        if (key.equals("allow.everyone.if.no.acl.found")) return Verdict.ignored("ACL authorization is not implemented");
        if (!BrokerConfigKeys.KAFKA.containsKey(key)) return null;
        Verdict special = switch (key) {
            case "listeners" -> listeners(v, settings);
            case "advertised.listeners" -> advertisedListeners(v, settings);
            case "listener.security.protocol.map" -> {
                try {
                    protocolMap(v);
                    yield null;
                } catch (IllegalArgumentException e) {
                    yield Verdict.refused(e.getMessage());
                }
            }
            case "security.inter.broker.protocol" -> {
                if (settings.containsKey("inter.broker.listener.name")) {
                    yield Verdict.refused("Only one of inter.broker.listener.name and security.inter.broker.protocol "
                            + "should be set.");
                }
                yield v.equalsIgnoreCase(PLAINTEXT) ? null : Verdict.refused(TLS_SASL);
            }
            case "inter.broker.listener.name" -> interBrokerListener(v, settings);
            case "log.dirs", "log.dir" -> v.split(",").length > 1
                    ? Verdict.refused("more than one log directory is not implemented") : null;
            case "node.id" -> settings.containsKey("broker.id") && !settings.get("broker.id").trim().equals(v)
                    ? Verdict.refused("You must set `node.id` to the same value as `broker.id`.") : null;
            case "authorizer.class.name" -> v.isEmpty() ? Verdict.IMPLEMENTED
                    : Verdict.refused("ACL authorization is not implemented");
            case "create.topic.policy.class.name", "alter.config.policy.class.name" -> v.isEmpty()
                    ? Verdict.IMPLEMENTED : Verdict.refused("policy plug-ins are not implemented");
            case "client.quota.callback.class" -> v.isEmpty() ? Verdict.IMPLEMENTED
                    : Verdict.refused("quotas are not implemented");
            case "control.plane.listener.name" -> v.isEmpty() ? Verdict.IMPLEMENTED
                    : Verdict.refused("a separate control plane listener is not implemented");
            case "unclean.leader.election.enable" -> v.equalsIgnoreCase("false") ? Verdict.IMPLEMENTED
                    : Verdict.refused("unclean leader election is not implemented (leaders come only from the ISR)");
            case "zookeeper.set.acl" -> v.equalsIgnoreCase("false") ? Verdict.IMPLEMENTED
                    : Verdict.refused("ACLs on the broker's znodes are not implemented");
            case "zookeeper.clientCnxnSocket" -> PLAIN_ZOOKEEPER_SOCKETS.contains(v) ? Verdict.IMPLEMENTED
                    : Verdict.refused("ZooKeeper client socket " + v + " is not implemented");
            default -> null;
        };
        if (special != null) return special;
        if (!BrokerConfigKeys.IMPLEMENTED.contains(key)) return Verdict.ignored("not implemented by Tandem");
        String invalid = BrokerConfigKeys.invalidValue(key, value);
        return invalid == null ? Verdict.IMPLEMENTED : Verdict.refused(invalid);
    }

    /** {@code listener.name.<listener>.<key>}: per-listener overrides; the security ones would be lost, so refused. */
    private static Verdict listenerOverride(String key) {
        String rest = key.substring("listener.name.".length());
        int dot = rest.indexOf('.');
        String base = dot < 0 ? "" : rest.substring(dot + 1);
        if (base.startsWith("ssl.") || base.startsWith("sasl.") || base.contains(".sasl.")
                || base.equals("connections.max.reauth.ms") || base.endsWith("principal.builder.class")) {
            return Verdict.refused(TLS_SASL);
        }
        return Verdict.ignored("per-listener settings are not implemented");
    }

    /** The listener Tandem serves: exactly one, PLAINTEXT by the protocol map. */
    private static Verdict listeners(String value, Map<String, String> settings) {
        try {
            List<BrokerConfig.Endpoint> endpoints = endpoints(value);
            if (endpoints.size() != 1) return Verdict.refused("exactly one listener is implemented");
            return plaintext(endpoints.get(0), settings);
        } catch (IllegalArgumentException e) {
            return Verdict.refused(e.getMessage());
        }
    }

    private static Verdict advertisedListeners(String value, Map<String, String> settings) {
        try {
            List<BrokerConfig.Endpoint> endpoints = endpoints(value);
            if (endpoints.size() != 1) return Verdict.refused("exactly one listener is implemented");
            BrokerConfig.Endpoint advertised = endpoints.get(0);
            if ("0.0.0.0".equals(advertised.host())) {
                return Verdict.refused("advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. "
                        + "Use a routable IP address.");
            }
            String listenerName = listenerName(settings);
            if (!advertised.listenerName().equalsIgnoreCase(listenerName)) {
                return Verdict.refused("advertised.listeners listener names must be equal to or a subset of the ones "
                        + "defined in listeners. Found " + advertised.listenerName() + ". The valid options based on "
                        + "the current configuration are " + listenerName);
            }
            return plaintext(advertised, settings);
        } catch (IllegalArgumentException e) {
            return Verdict.refused(e.getMessage());
        }
    }

    private static Verdict interBrokerListener(String value, Map<String, String> settings) {
        String listenerName;
        try {
            listenerName = listenerName(settings);
        } catch (IllegalArgumentException e) {
            return null; // the listeners key itself is refused with the reason
        }
        return value.equalsIgnoreCase(listenerName) ? null
                : Verdict.refused("inter.broker.listener.name must be a listener name defined in advertised.listeners. "
                + "The valid options based on currently configured listeners are " + listenerName);
    }

    /** Refuses an endpoint whose listener is not PLAINTEXT by the (default or configured) protocol map. */
    private static Verdict plaintext(BrokerConfig.Endpoint endpoint, Map<String, String> settings) {
        String name = endpoint.listenerName().toUpperCase(Locale.ROOT);
        String protocol = protocolMap(settings.get("listener.security.protocol.map")).get(name);
        if (protocol == null) return Verdict.refused("No security protocol defined for listener " + name);
        if (!protocol.equals(PLAINTEXT)) {
            return Verdict.refused("listener " + name + " uses security protocol " + protocol + "; " + TLS_SASL);
        }
        return null;
    }

    /** The one listener's name (PLAINTEXT when listeners is not set, as in Kafka's default). */
    private static String listenerName(Map<String, String> settings) {
        String listeners = settings.get("listeners");
        if (listeners == null) return PLAINTEXT;
        return endpoints(listeners).get(0).listenerName().toUpperCase(Locale.ROOT);
    }

    private static List<BrokerConfig.Endpoint> endpoints(String value) {
        List<BrokerConfig.Endpoint> endpoints = new ArrayList<>();
        for (String part : value.split(",")) {
            if (!part.isBlank()) endpoints.add(BrokerConfig.Endpoint.parse(part));
        }
        if (endpoints.isEmpty()) throw new IllegalArgumentException("no listener given");
        return endpoints;
    }

    /** listener.security.protocol.map as listener name -> protocol; Kafka's default when null. */
    static Map<String, String> protocolMap(String value) {
        Map<String, String> map = new LinkedHashMap<>();
        if (value == null || value.isBlank()) {
            for (String protocol : PROTOCOLS) map.put(protocol, protocol);
            return map;
        }
        for (String entry : value.split(",")) {
            String[] pair = entry.trim().split(":");
            String protocol = pair.length == 2 ? pair[1].trim().toUpperCase(Locale.ROOT) : "";
            if (pair.length != 2 || pair[0].isBlank() || !PROTOCOLS.contains(protocol)) {
                throw new IllegalArgumentException("listener.security.protocol.map entry '" + entry.trim()
                        + "' is not LISTENER_NAME:PROTOCOL with a protocol of " + PROTOCOLS);
            }
            map.put(pair[0].trim().toUpperCase(Locale.ROOT), protocol);
        }
        return map;
    }
}
