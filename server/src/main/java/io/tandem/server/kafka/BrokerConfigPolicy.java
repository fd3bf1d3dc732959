package io.tandem.server.kafka;

import io.tandem.server.ConfigKeys.Verdict;
import io.tandem.server.kafka.network.ConnectionLimitSettings;
import io.tandem.server.kafka.metadata.ZkClientTls;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.quota.ConnectionRateQuotas;
import io.tandem.server.kafka.replica.ReplicaFetcherConfig;
import io.tandem.server.kafka.security.AclAuthorizer;
import io.tandem.server.kafka.security.JaasLoginModule;
import io.tandem.server.kafka.security.PasswordEncoder;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.server.kafka.security.SaslSettings;
import io.tandem.server.kerberos.PrincipalToLocalRules;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What Tandem does with each of Kafka's server.properties keys at start-up: honours it ({@link BrokerConfigKeys#IMPLEMENTED},
 * with Kafka's value checks, and the TLS and SASL keys listeners and the inter-broker client use), refuses it when
 * ignoring it would weaken security or change behaviour users rely on (Kerberos, OAUTHBEARER, policies,
 * authorizers other than AclAuthorizer, more than one log directory, ...), or ignores it with a warning. Keys Kafka does
 * not define are not this class's: it answers null for them.
 */
public final class BrokerConfigPolicy {
    /** Kafka's default principal.builder.class, whose principals Tandem's listeners produce. */
    private static final String DEFAULT_PRINCIPAL_BUILDER =
            "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder";
    /** Kafka's default security protocol (of the inter-broker listener too). */
    public static final String PLAINTEXT = "PLAINTEXT";
    /** Kafka's default listener.security.protocol.map: each protocol name maps to itself. */
    /** KafkaConfig.validateValues' words. */
    static final String REPLICA_SOCKET_TIMEOUT_TOO_SHORT = "replica.socket.timeout.ms should always be at least "
            + "replica.fetch.wait.max.ms to prevent unnecessary socket timeouts";
    /** KafkaConfig.validateValues' words. */
    static final String REPLICA_LAG_TIME_TOO_SHORT = "replica.fetch.wait.max.ms should always be less than or equal "
            + "to replica.lag.time.max.ms to prevent frequent changes in ISR";
    private static final Set<String> PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    /**
     * Apache's two ZooKeeper client socket implementations: without TLS both speak plain TCP, as Tandem's client does;
     * with zookeeper.ssl.client.enable=true only Netty's speaks TLS (ZkClientTls).
     */
    private static final Set<String> PLAIN_ZOOKEEPER_SOCKETS = Set.of("org.apache.zookeeper.ClientCnxnSocketNIO",
            "org.apache.zookeeper.ClientCnxnSocketNetty");
    /** The ssl.* keys a listener's TLS honours (see io.tandem.server.kafka.security.SslContexts). */
    private static final Set<String> SSL_IMPLEMENTED = Set.of("ssl.keystore.type", "ssl.keystore.location",
            "ssl.keystore.password", "ssl.key.password", "ssl.keystore.key", "ssl.keystore.certificate.chain",
            "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates",
            "ssl.client.auth", "ssl.enabled.protocols", "ssl.cipher.suites", "ssl.keymanager.algorithm",
            "ssl.trustmanager.algorithm", "ssl.protocol");
    /** The SASL mechanisms whose per-listener JAAS configuration Tandem reads. */
    private static final Set<String> JAAS_MECHANISMS = SaslSettings.LISTENER_MECHANISMS.stream()
            .map(m -> m.toLowerCase(Locale.ROOT)).collect(java.util.stream.Collectors.toUnmodifiableSet());

    private BrokerConfigPolicy() {
    }

    /**
     * The ssl.* and sasl.* keys a listener or the inter-broker client honours (the others are refused at start-up),
     * and those of TLS to ZooKeeper:
     * DescribeConfigs lists them with their values, as Kafka lists every key of its configuration.
     */
    public static Set<String> honouredSecurityKeys() {
        Set<String> keys = new java.util.TreeSet<>(SSL_IMPLEMENTED);
        keys.addAll(List.of("ssl.endpoint.identification.algorithm", "ssl.allow.dn.changes", "ssl.allow.san.changes",
                "ssl.principal.mapping.rules", "sasl.enabled.mechanisms", "sasl.server.max.receive.size",
                "sasl.mechanism.inter.broker.protocol", "sasl.kerberos.service.name",
                "sasl.kerberos.principal.to.local.rules", "sasl.kerberos.ticket.renew.window.factor",
                "sasl.kerberos.ticket.renew.jitter", "sasl.kerberos.min.time.before.relogin"));
        // TLS to ZooKeeper (ZkClientTls); its passwords are listed with the other passwords.
        keys.addAll(List.of("zookeeper.ssl.client.enable", "zookeeper.ssl.keystore.location",
                "zookeeper.ssl.keystore.type", "zookeeper.ssl.truststore.location", "zookeeper.ssl.truststore.type",
                "zookeeper.ssl.protocol", "zookeeper.ssl.enabled.protocols", "zookeeper.ssl.cipher.suites",
                "zookeeper.ssl.endpoint.identification.algorithm", "zookeeper.ssl.crl.enable",
                "zookeeper.ssl.ocsp.enable", "zookeeper.clientCnxnSocket"));
        return keys;
    }

    /** The verdict on a broker key, or null when Kafka does not define it. */
    public static Verdict verdict(String key, String value, Map<String, String> settings) {
        String v = value == null ? "" : value.trim();
        if (key.startsWith("ssl.")) return ssl(key, v);
        if (key.startsWith("sasl.")) return sasl(key, v);
        if (key.startsWith("listener.name.")) return listenerOverride(key, v);
        // The broker's TLS to ZooKeeper (io.tandem.server.kafka.metadata.ZkClientTls).
        if (key.startsWith(ZkClientTls.PREFIX)) return ZkClientTls.verdict(key, v, settings);
        // The authorizer's own keys are not KafkaConfig's, but they belong to the broker all the same.
        if (key.equals("super.users")) {
            for (String principal : AclAuthorizer.superUsers(v)) {
                if (principal.indexOf(':') <= 0) {
                    return Verdict.refused("expected a string in format principalType:principalName but got " + principal);
                }
            }
            return Verdict.IMPLEMENTED;
        }
        // Passwords: honoured (io.tandem.server.kafka.security.DelegationTokens) but never described, so not IMPLEMENTED.
        if (key.equals("delegation.token.secret.key") || key.equals("delegation.token.master.key")) {
            return Verdict.IMPLEMENTED;
        }
        // Dynamic passwords are encrypted with these (io.tandem.server.kafka.security.PasswordEncoder); the
        // algorithms are checked against the JDK now, as Kafka would fail on the first password it encrypts.
        if (key.equals(PasswordEncoder.SECRET) || key.equals(PasswordEncoder.OLD_SECRET)) return Verdict.IMPLEMENTED;
        if (key.equals(PasswordEncoder.CIPHER_ALGORITHM) || key.equals(PasswordEncoder.KEY_FACTORY_ALGORITHM)) {
            try {
                if (key.equals(PasswordEncoder.CIPHER_ALGORITHM)) javax.crypto.Cipher.getInstance(v);
                else if (!v.isEmpty()) javax.crypto.SecretKeyFactory.getInstance(v);
                return Verdict.IMPLEMENTED;
            } catch (java.security.GeneralSecurityException e) {
                return Verdict.refused(key + " " + v + " is not available: " + e.getMessage());
            }
        }
        if (key.equals("allow.everyone.if.no.acl.found")) {
            return v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false") ? Verdict.IMPLEMENTED
                    : Verdict.refused("allow.everyone.if.no.acl.found must be true or false");
        }
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
                yield interBrokerListener(v, settings);
            }
            case "inter.broker.listener.name" -> interBrokerListener(v, settings);
            case "log.dirs", "log.dir" -> v.split(",").length > 1
                    ? Verdict.refused("more than one log directory is not implemented") : null;
            case "node.id" -> settings.containsKey("broker.id") && !settings.get("broker.id").trim().equals(v)
                    ? Verdict.refused("You must set `node.id` to the same value as `broker.id`.") : null;
            case "authorizer.class.name" -> v.isEmpty() || v.equals(AclAuthorizer.CLASS_NAME) ? Verdict.IMPLEMENTED
                    : Verdict.refused("authorizer " + v + " is not implemented (only " + AclAuthorizer.CLASS_NAME + ")");
            case "create.topic.policy.class.name", "alter.config.policy.class.name" -> v.isEmpty()
                    ? Verdict.IMPLEMENTED : Verdict.refused("policy plug-ins are not implemented");
            case "client.quota.callback.class" -> v.isEmpty() ? Verdict.IMPLEMENTED
                    : Verdict.refused("custom quota callbacks are not implemented (Kafka's default quotas are)");
            // KIP-392's selectors (io.tandem.server.kafka.replica.ReadReplicaSelector): Kafka's two, by name.
            case "replica.selector.class" -> {
                try {
                    io.tandem.server.kafka.replica.ReadReplicaSelector.forClassName(v);
                    yield Verdict.IMPLEMENTED;
                } catch (IllegalArgumentException e) {
                    yield Verdict.refused(e.getMessage());
                }
            }
            case "control.plane.listener.name" -> v.isEmpty() ? Verdict.IMPLEMENTED
                    : Verdict.refused("a separate control plane listener is not implemented");
            // The controller's election for a partition without a live in-sync replica (controller.UncleanElectionPolicy).
            case "unclean.leader.election.enable" -> v.equalsIgnoreCase("false") || v.equalsIgnoreCase("true")
                    ? Verdict.IMPLEMENTED : Verdict.refused("Invalid value " + v + " for configuration "
                    + "unclean.leader.election.enable: Expected value to be either true or false");
            // Kafka's ACLs on every znode the broker creates, with the SASL login they need (ZkZnodeStore).
            case "zookeeper.set.acl" -> v.equalsIgnoreCase("false") || v.equalsIgnoreCase("true") ? Verdict.IMPLEMENTED
                    : Verdict.refused("Invalid value " + v + " for configuration zookeeper.set.acl: Expected value to be"
                    + " either true or false");
            case "zookeeper.clientCnxnSocket" -> PLAIN_ZOOKEEPER_SOCKETS.contains(v) ? Verdict.IMPLEMENTED
                    : Verdict.refused("ZooKeeper client socket " + v + " is not implemented");
            // Keys Kafka applies whose loss would weaken security or a connection limit: honoured at Kafka's
            // default (what Tandem does), refused otherwise.
            case "principal.builder.class" -> v.isEmpty() || v.equals(DEFAULT_PRINCIPAL_BUILDER) ? Verdict.IMPLEMENTED
                    : Verdict.refused("custom principal builders are not implemented (principals are those of Kafka's "
                    + "DefaultKafkaPrincipalBuilder)");
            // Kafka's AbstractConfig resolves ${provider:path:key} references in every value through these; Tandem
            // would take the reference as written, so a login module's user_<name>="${file:...}" would become that
            // user's password. Refused rather than served so.
            case "config.providers" -> v.isEmpty() ? Verdict.IMPLEMENTED
                    : Verdict.refused("config providers are not implemented: values with ${provider:...} references "
                    + "would be taken as written (passwords included)");
            case "security.providers" -> v.isEmpty() ? Verdict.IMPLEMENTED
                    : Verdict.refused("security provider creators are not implemented (the JDK's providers are used)");
            // Kafka's KafkaConfig checks of the per-address maxima; the hosts resolve now, as Kafka's
            // ConnectionQuotas resolves them when the broker starts (io.tandem.server.kafka.network.ConnectionLimits).
            case "max.connections.per.ip.overrides", "max.connections.per.ip" -> {
                String problem = ConnectionLimitSettings.perIpProblem(
                        key.equals("max.connections.per.ip") ? v : settings.get("max.connections.per.ip"),
                        key.equals("max.connections.per.ip") ? settings.get("max.connections.per.ip.overrides") : v);
                if (problem == null && key.equals("max.connections.per.ip.overrides")) {
                    try {
                        ConnectionLimitSettings.from(Map.of(key, v));
                    } catch (IllegalArgumentException e) {
                        problem = e.getMessage();
                    }
                }
                yield problem == null ? null : Verdict.refused(problem);
            }
            // Log keys honoured at Kafka's default, which is what Tandem does; another value would not happen.
            case "log.preallocate" -> onlyAtDefault(key, v, "segment file preallocation is not implemented");
            case "log.local.retention.ms", "log.local.retention.bytes" -> onlyAtDefault(key, v,
                    "tiered storage is not implemented (the local log is the whole log)");
            case "log.cleaner.io.max.bytes.per.second" -> onlyAtDefault(key, v,
                    "throttling the log cleaner's I/O is not implemented");
            // The log start offsets are checkpointed with the recovery points (LogManager.writeCheckpoints).
            case "log.flush.start.offset.checkpoint.interval.ms" -> v.equals(settings.getOrDefault(
                    "log.flush.offset.checkpoint.interval.ms", "60000").trim()) ? Verdict.IMPLEMENTED
                    : Verdict.refused("the log start offsets are checkpointed with the recovery points, every "
                    + "log.flush.offset.checkpoint.interval.ms; set both to the same value");
            // KafkaConfig.validateValues: a follower's fetch may wait at the leader for replica.fetch.wait.max.ms,
            // so its socket timeout must not be shorter, and a follower must fetch again well within
            // replica.lag.time.max.ms. Kafka refuses each pair whichever of its keys is set.
            case "replica.socket.timeout.ms" -> waitAbove(fetchWait(settings), v, REPLICA_SOCKET_TIMEOUT_TOO_SHORT);
            case "replica.lag.time.max.ms" -> waitAbove(fetchWait(settings), v, REPLICA_LAG_TIME_TOO_SHORT);
            case "replica.fetch.wait.max.ms" -> {
                Verdict socket = waitAbove(v, settings.getOrDefault("replica.socket.timeout.ms",
                        BrokerConfigKeys.defaultValue("replica.socket.timeout.ms")), REPLICA_SOCKET_TIMEOUT_TOO_SHORT);
                yield socket != null ? socket : waitAbove(v, settings.getOrDefault("replica.lag.time.max.ms",
                        BrokerConfigKeys.defaultValue("replica.lag.time.max.ms")), REPLICA_LAG_TIME_TOO_SHORT);
            }
            // An answer larger than its inter-broker client takes closes the fetcher's connection, and the follower
            // would fail every fetch for good: refused rather than accepted and never working.
            case "replica.fetch.response.max.bytes" -> {
                try {
                    yield Long.parseLong(v) > InterBrokerClient.RESPONSE_BYTES_MAX ? Verdict.refused("Not supported by "
                            + "Tandem: replica.fetch.response.max.bytes above " + InterBrokerClient.RESPONSE_BYTES_MAX
                            + " (the largest answer its inter-broker client takes)") : null;
                } catch (NumberFormatException e) {
                    yield null;
                }
            }
            case "log.message.format.version" -> TopicConfigs.isKafka39MetadataVersion(v) ? Verdict.IMPLEMENTED
                    : Verdict.refused("Invalid value " + v + " for configuration log.message.format.version: Version "
                    + v + " is not a valid version");
            case "log.cleaner.dedupe.buffer.size", "log.cleaner.io.buffer.load.factor", "log.cleaner.io.buffer.size" ->
                    onlyAtDefault(key, v, "the log cleaner's memory is not sized by buffers (a pass maps at most "
                            + "500,000 keys; storage/README.md)");
            default -> null;
        };
        if (special != null) return special;
        if (!BrokerConfigKeys.IMPLEMENTED.contains(key)) return Verdict.ignored("not implemented by Tandem");
        String invalid = BrokerConfigKeys.invalidValue(key, value);
        return invalid == null ? Verdict.IMPLEMENTED : Verdict.refused(invalid);
    }

    /** replica.fetch.wait.max.ms as set, else Kafka's default. */
    private static String fetchWait(Map<String, String> settings) {
        return settings.getOrDefault("replica.fetch.wait.max.ms", String.valueOf(ReplicaFetcherConfig.WAIT_MAX_MS_DEFAULT));
    }

    /** Refused with {@code words} when the fetch wait {@code waitMs} is above {@code boundMs}; null otherwise. */
    private static Verdict waitAbove(String waitMs, String boundMs, String words) {
        try {
            return Long.parseLong(waitMs.trim()) > Long.parseLong(boundMs.trim()) ? Verdict.refused(words) : null;
        } catch (NumberFormatException e) {
            // Not a number: the key's own type check refuses it.
            return null;
        }
    }

    /**
     * Honoured when {@code value} is Kafka's default for {@code key} (or, for a key without one, 0), compared as
     * numbers where they are numbers; refused with {@code why} otherwise.
     */
    private static Verdict onlyAtDefault(String key, String value, String why) {
        String kafkaDefault = BrokerConfigKeys.KAFKA.get(key).kafkaDefault();
        String wanted = kafkaDefault == null ? "0" : kafkaDefault;
        if (value.equalsIgnoreCase(wanted)) return Verdict.IMPLEMENTED;
        try {
            if (Double.parseDouble(value) == Double.parseDouble(wanted)) return Verdict.IMPLEMENTED;
        } catch (NumberFormatException e) {
            // not a number: refused below
        }
        return Verdict.refused(why + "; only Kafka's default " + wanted + " is accepted");
    }

    /**
     * {@code listener.name.<listener>.<key>}: the TLS and SASL keys Tandem honours are checked as their base key,
     * {@code <mechanism>.sasl.jaas.config} is parsed; other security overrides would be lost, so they are refused.
     */
    private static Verdict listenerOverride(String key, String value) {
        String rest = key.substring("listener.name.".length());
        int dot = rest.indexOf('.');
        String base = dot < 0 ? "" : rest.substring(dot + 1);
        if (base.startsWith("ssl.") || base.startsWith("sasl.") || base.equals("connections.max.reauth.ms")) {
            return verdict(base, value, Map.of());
        }
        int mechanismDot = base.indexOf('.');
        if (mechanismDot > 0 && base.substring(mechanismDot + 1).equals("connections.max.reauth.ms")) {
            // Kafka's per-mechanism session bound (SaslChannelBuilder), e.g. listener.name.l.oauthbearer.connections...
            if (!JAAS_MECHANISMS.contains(base.substring(0, mechanismDot))) {
                return Verdict.refused("SASL mechanism " + base.substring(0, mechanismDot) + " is not implemented");
            }
            return verdict("connections.max.reauth.ms", value, Map.of());
        }
        if (mechanismDot > 0 && base.substring(mechanismDot + 1).startsWith("sasl.")) {
            String mechanism = base.substring(0, mechanismDot);
            String mechanismKey = base.substring(mechanismDot + 1);
            if (!JAAS_MECHANISMS.contains(mechanism)) return Verdict.refused("SASL mechanism " + mechanism + " is not implemented");
            if (!mechanismKey.equals("sasl.jaas.config")) return Verdict.refused(mechanismKey + " is not implemented");
            try {
                String module = JaasLoginModule.parse(value).className();
                String wanted = JaasLoginModule.moduleFor(mechanism.toUpperCase(Locale.ROOT));
                return module.equals(wanted) ? Verdict.IMPLEMENTED
                        : Verdict.refused("login module " + module + " is not implemented (only " + wanted + ")");
            } catch (IllegalArgumentException e) {
                // Kafka's parser words only: the value holds passwords and is never repeated.
                return Verdict.refused(e.getMessage());
            }
        }
        if (base.endsWith("principal.builder.class")) return Verdict.refused("principal builders are not implemented");
        // Kafka's ListenerConnectionQuota: a listener's own creation rate (KIP-612), checked as the broker-wide key.
        if (base.equals(ConnectionRateQuotas.BROKER_RATE_KEY)) return verdict(base, value, Map.of());
        // Kafka's ListenerConnectionQuota: a listener's own maximum (io.tandem.server.kafka.network.ConnectionLimits),
        // checked as the broker-wide key.
        if (base.equals("max.connections")) return verdict(base, value, Map.of());
        return Verdict.ignored("per-listener settings are not implemented");
    }

    /** ssl.*: what a TLS listener honours, checked as Kafka checks it; the rest refused. */
    private static Verdict ssl(String key, String v) {
        switch (key) {
            case "ssl.endpoint.identification.algorithm":
                // The broker's own TLS client (to other brokers) checks the peer's host name with it.
                return v.isEmpty() || v.equalsIgnoreCase("https") ? Verdict.IMPLEMENTED
                        : Verdict.refused("ssl.endpoint.identification.algorithm " + v + " is not implemented (https, or "
                        + "empty to turn host name checks off)");
            case "ssl.allow.dn.changes", "ssl.allow.san.changes":
                // Read when a listener's key store is reloaded (io.tandem.server.kafka.security.ListenerTls).
                return v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false") ? Verdict.IMPLEMENTED
                        : Verdict.refused("Invalid value " + v + " for configuration " + key
                        + ": Expected value to be either true or false");
            case "ssl.principal.mapping.rules":
                return v.equals("DEFAULT") ? Verdict.IMPLEMENTED : Verdict.refused("principal mapping rules are not implemented");
            default:
                break;
        }
        if (!SSL_IMPLEMENTED.contains(key)) return Verdict.refused(key + " is not implemented");
        return switch (key) {
            case "ssl.client.auth" -> List.of("required", "requested", "none").contains(v.toLowerCase(Locale.ROOT))
                    ? Verdict.IMPLEMENTED : Verdict.refused("Invalid value " + v + " for configuration ssl.client.auth: "
                    + "String must be one of: required, requested, none");
            case "ssl.keystore.type", "ssl.truststore.type" -> List.of("JKS", "PKCS12", "PEM")
                    .contains(v.toUpperCase(Locale.ROOT)) ? Verdict.IMPLEMENTED
                    : Verdict.refused("store type " + v + " is not implemented (JKS, PKCS12, PEM)");
            case "ssl.protocol" -> List.of("TLS", "TLSv1.2", "TLSv1.3").contains(v) ? Verdict.IMPLEMENTED
                    : Verdict.refused("ssl.protocol " + v + " is not implemented (TLS, TLSv1.2, TLSv1.3)");
            default -> Verdict.IMPLEMENTED;
        };
    }

    /**
     * sasl.*: the mechanisms Tandem serves, the token bound, GSSAPI's service name, rules and login renewal; kinit
     * ignored (logins are renewed by logging in again); the rest (OAUTHBEARER's signed-token (OIDC) validation and its
     * sasl.oauthbearer.* settings, plug-ins) refused.
     */
    private static Verdict sasl(String key, String v) {
        switch (key) {
            case "sasl.enabled.mechanisms": {
                for (String m : v.split(",")) {
                    String name = m.trim().toUpperCase(Locale.ROOT);
                    if (!name.isEmpty() && !SaslSettings.LISTENER_MECHANISMS.contains(name)) {
                        return Verdict.refused("SASL mechanism " + name + " is not implemented (only "
                                + String.join(", ", SaslSettings.LISTENER_MECHANISMS) + ")");
                    }
                }
                return Verdict.IMPLEMENTED;
            }
            case "sasl.server.max.receive.size": {
                String invalid = BrokerConfigKeys.invalidValue(key, v);
                if (invalid != null) return Verdict.refused(invalid);
                return Integer.parseInt(v) >= 1 ? Verdict.IMPLEMENTED
                        : Verdict.refused("Invalid value " + v + " for configuration " + key + ": Value must be at least 1");
            }
            case "sasl.mechanism.inter.broker.protocol":
                return InterBrokerSecurity.MECHANISMS.contains(v.trim().toUpperCase(Locale.ROOT)) ? Verdict.IMPLEMENTED
                        : Verdict.refused("SASL mechanism " + v + " between brokers is not implemented (only "
                        + String.join(", ", InterBrokerSecurity.MECHANISMS) + ")");
            case "sasl.kerberos.service.name":
                // GSSAPI listeners check it against their login module's serviceName (security.GssapiSettings).
                return Verdict.IMPLEMENTED;
            case "sasl.kerberos.principal.to.local.rules":
                try {
                    PrincipalToLocalRules.parse("", PrincipalToLocalRules.listValue(v));
                    return Verdict.IMPLEMENTED;
                } catch (IllegalArgumentException e) {
                    return Verdict.refused("Invalid value " + v + " for configuration " + key + ": " + e.getMessage());
                }
            case "sasl.kerberos.min.time.before.relogin", "sasl.kerberos.ticket.renew.jitter",
                    "sasl.kerberos.ticket.renew.window.factor": {
                // Every GSSAPI login (listeners, the inter-broker client) is renewed with them as Kafka's
                // KerberosLogin renews it (kerberos.RenewingLogin, read by security.GssapiSettings.renewal).
                String invalid = BrokerConfigKeys.invalidValue(key, v);
                if (invalid != null) return Verdict.refused(invalid);
                // Kafka's ConfigDef takes any number; a negative one has no meaning for a renewal time.
                return Double.parseDouble(v) >= 0 ? Verdict.IMPLEMENTED
                        : Verdict.refused("Not supported by Tandem: " + key + " must not be negative, it is " + v);
            }
            case "sasl.kerberos.kinit.cmd":
                // Kafka runs kinit -R only for a login from a ticket cache; the broker's logins here are from
                // keytabs and renewed by logging in again, so kinit is never run.
                return Verdict.ignored("the broker's Kerberos logins are renewed by logging in again, never with "
                        + "kinit");
            case "sasl.jaas.config":
                // Kafka's brokers read listener.name.<listener>.<mechanism>.sasl.jaas.config (or the JAAS file) for both
                // sides of the inter-broker listener; the bare key is a client's and would be ignored.
                return Verdict.refused("a broker reads its login modules (its users, and its own username and password "
                        + "for other brokers) from listener.name.<listener>.<mechanism>.sasl.jaas.config");
            default:
                return Verdict.refused(key + " is not implemented (SASL here is GSSAPI, PLAIN, SCRAM-SHA-256/512 and "
                        + "OAUTHBEARER with Kafka's unsecured token validator)");
        }
    }

    /**
     * The listeners: distinct names, each with a security protocol in the map, distinct ports when there are
     * several; the inter-broker listener must be one of them (its security is checked when the broker builds its
     * client side: io.tandem.server.kafka.security.InterBrokerSecurity).
     */
    private static Verdict listeners(String value, Map<String, String> settings) {
        try {
            List<BrokerConfig.Endpoint> endpoints = endpoints(value);
            Map<String, String> protocols = protocolMap(settings.get("listener.security.protocol.map"));
            Set<String> names = new LinkedHashSet<>();
            java.util.Set<Integer> ports = new HashSet<>();
            for (BrokerConfig.Endpoint e : endpoints) {
                String name = e.listenerName().toUpperCase(Locale.ROOT);
                if (!names.add(name)) return Verdict.refused("Each listener must have a different name, listeners: " + value);
                if (!protocols.containsKey(name)) return Verdict.refused("No security protocol defined for listener " + name);
                if (endpoints.size() > 1 && e.port() < 0) return Verdict.refused("listener " + name + " has no port");
                if (endpoints.size() > 1 && e.port() > 0 && !ports.add(e.port())) {
                    return Verdict.refused("Each listener must have a different port, listeners: " + value);
                }
            }
            if (settings.containsKey("inter.broker.listener.name") || settings.containsKey("security.inter.broker.protocol")) {
                return null; // those keys' own verdicts check the listener they name
            }
            String interBroker = BrokerConfig.interBrokerListener(settings);
            if (!names.contains(interBroker)) {
                return Verdict.refused("inter.broker.listener.name must be a listener name defined in advertised.listeners. "
                        + "The valid options based on currently configured listeners are " + String.join(",", names));
            }
            return null;
        } catch (IllegalArgumentException e) {
            return Verdict.refused(e.getMessage());
        }
    }

    private static Verdict advertisedListeners(String value, Map<String, String> settings) {
        try {
            Set<String> names = listenerNames(settings);
            for (BrokerConfig.Endpoint advertised : endpoints(value)) {
                if ("0.0.0.0".equals(advertised.host())) {
                    return Verdict.refused("advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. "
                            + "Use a routable IP address.");
                }
                if (!names.contains(advertised.listenerName().toUpperCase(Locale.ROOT))) {
                    return Verdict.refused("advertised.listeners listener names must be equal to or a subset of the ones "
                            + "defined in listeners. Found " + advertised.listenerName() + ". The valid options based on "
                            + "the current configuration are " + String.join(",", names));
                }
            }
            return null;
        } catch (IllegalArgumentException e) {
            return Verdict.refused(e.getMessage());
        }
    }

    private static Verdict interBrokerListener(String value, Map<String, String> settings) {
        Set<String> names;
        try {
            names = listenerNames(settings);
        } catch (IllegalArgumentException e) {
            return null; // the listeners key itself is refused with the reason
        }
        String name = value.toUpperCase(Locale.ROOT);
        if (!names.contains(name)) {
            return Verdict.refused("inter.broker.listener.name must be a listener name defined in advertised.listeners. "
                    + "The valid options based on currently configured listeners are " + String.join(",", names));
        }
        return null;
    }

    /** The listener names (upper case), PLAINTEXT alone when listeners is not set, as in Kafka's default. */
    private static Set<String> listenerNames(Map<String, String> settings) {
        Set<String> names = new LinkedHashSet<>();
        String listeners = settings.get("listeners");
        if (listeners == null) {
            names.add(PLAINTEXT);
            return names;
        }
        for (BrokerConfig.Endpoint e : endpoints(listeners)) names.add(e.listenerName().toUpperCase(Locale.ROOT));
        return names;
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
