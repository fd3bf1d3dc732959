package io.tandem.server.kafka;

import io.tandem.server.ConfigKeys;
import io.tandem.server.kafka.security.JaasLoginModule;
import io.tandem.server.kafka.security.ListenerSecurity;
import io.tandem.server.kafka.security.SaslSettings;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static io.tandem.server.kafka.ErrorCodes.INVALID_CONFIG;

/**
 * The SASL settings of this broker's listeners among its dynamic broker configs, kept as Kafka 3.9 keeps them: the
 * login modules ({@code listener.name.<l>.<mechanism>.sasl.jaas.config}, passwords) and GSSAPI's Kerberos keys
 * ({@link ListenerSecurity#KERBEROS_KEYS}: {@code sasl.kerberos.service.name}, {@code
 * sasl.kerberos.principal.to.local.rules} and the renewal keys, broker-wide or under {@code listener.name.<l>.}) are
 * stored, and are in force from the broker's next start. Kafka lists them as dynamic (DynamicListenerConfig's
 * ReconfigurableConfigs), but its SaslChannelBuilder reconfigures only TLS keys and builds its logins and its
 * KerberosShortNamer once, and DynamicListenerConfig acts only on listeners added or removed, so a running listener
 * keeps the settings it started with ({@link ListenerSecurity#startWithDynamicLogins}).
 *
 * <p>Before storing, Tandem checks what Kafka would only find at the next start (and then refuse to start): Kafka's
 * JAAS syntax and the mechanism's module, a rule that parses, a service name that agrees with the login module's. This
 * broker's own login to other brokers is read from server.properties only, so a change that would alter it is
 * refused, naming why.
 */
final class DynamicListenerSasl {
    private static final String LISTENER_PREFIX = "listener.name.";

    /** The SASL listeners, by lower-case listener name (the form of the {@code listener.name.} prefix). */
    private final Map<String, ListenerSecurity> saslListeners = new LinkedHashMap<>();
    /** The inter-broker listener, lower case; null without one. */
    private final String interBrokerListener;
    /** sasl.mechanism.inter.broker.protocol when the inter-broker listener uses SASL, else null. */
    private final String interBrokerMechanism;

    DynamicListenerSasl(Map<String, ListenerSecurity> listeners, String interBrokerListener,
                        String interBrokerMechanism) {
        listeners.forEach((name, security) -> {
            if (security.sasl() != null) saslListeners.put(name.toLowerCase(Locale.ROOT), security);
        });
        this.interBrokerListener = interBrokerListener == null ? null : interBrokerListener.toLowerCase(Locale.ROOT);
        this.interBrokerMechanism = interBrokerMechanism;
    }

    /** Whether the key is one of these settings (stored here, in force from the next start). */
    boolean handles(String name) {
        return jaasMechanism(name) != null || kerberosKey(name) != null;
    }

    /**
     * The mechanism (upper case) of a {@code listener.name.<listener>.<mechanism>.sasl.jaas.config} key of one of this
     * broker's SASL listeners and a mechanism Tandem implements; null for anything else.
     */
    private String jaasMechanism(String name) {
        if (!name.startsWith(LISTENER_PREFIX) || !name.endsWith(ListenerSecurity.JAAS_CONFIG_SUFFIX)) return null;
        int dot = name.indexOf('.', LISTENER_PREFIX.length());
        int end = name.length() - ListenerSecurity.JAAS_CONFIG_SUFFIX.length();
        if (dot < 0 || dot >= end) return null;
        String mechanism = name.substring(dot + 1, end).toUpperCase(Locale.ROOT);
        return saslListeners.containsKey(name.substring(LISTENER_PREFIX.length(), dot))
                && SaslSettings.IMPLEMENTED_MECHANISMS.contains(mechanism) ? mechanism : null;
    }

    /**
     * The base key of a Kerberos setting: {@code sasl.kerberos.x} itself, or {@code listener.name.<l>.sasl.kerberos.x}
     * of one of this broker's SASL listeners; null for anything else.
     */
    private String kerberosKey(String name) {
        if (ListenerSecurity.KERBEROS_KEYS.contains(name)) return name;
        String listener = listenerOf(name);
        if (listener == null || !saslListeners.containsKey(listener)) return null;
        String base = name.substring(LISTENER_PREFIX.length() + listener.length() + 1);
        return ListenerSecurity.KERBEROS_KEYS.contains(base) ? base : null;
    }

    private static String listenerOf(String name) {
        if (!name.startsWith(LISTENER_PREFIX)) return null;
        int dot = name.indexOf('.', LISTENER_PREFIX.length());
        return dot < 0 ? null : name.substring(LISTENER_PREFIX.length(), dot);
    }

    /** Tandem's checks of one of these settings before it is stored; ApiException INVALID_CONFIG naming why. */
    void validate(String name, String value) {
        if (value == null) return;
        String mechanism = jaasMechanism(name);
        if (mechanism != null) {
            validateLogin(name, mechanism, value);
            return;
        }
        String base = kerberosKey(name);
        if (base != null) validateKerberos(name, base, value);
    }

    /**
     * A Kerberos key: a value Tandem honours at start-up, and neither this broker's own Kerberos login to other
     * brokers (read from server.properties only) nor a service name that the listener's login module contradicts.
     */
    private void validateKerberos(String name, String base, String value) {
        ConfigKeys.Verdict verdict = BrokerConfigPolicy.verdict(base, value, Map.of());
        if (verdict != null && verdict.kind() != ConfigKeys.Kind.IMPLEMENTED) {
            throw new ApiException(INVALID_CONFIG, "Invalid value for " + name + ": " + verdict.reason());
        }
        String listener = listenerOf(name);
        if ("GSSAPI".equals(interBrokerMechanism) && (listener == null || listener.equals(interBrokerListener))) {
            throw new ApiException(INVALID_CONFIG, "Dynamic update of " + name + " is not supported by Tandem when "
                    + "this broker logs in to other brokers with GSSAPI on that listener: its own Kerberos login to "
                    + "them is read from server.properties");
        }
        if (!base.equals("sasl.kerberos.service.name")) return;
        saslListeners.forEach((listenerName, security) -> {
            if (listener != null && !listener.equals(listenerName)) return;
            if (security.sasl().gssapi() == null) return;
            JaasLoginModule module = security.staticLogin("GSSAPI");
            String jaasServiceName = module == null ? null : module.options().get("serviceName");
            if (jaasServiceName != null && !jaasServiceName.equals(value.trim())) {
                // Kafka's words, which its broker would stop with at the next start.
                throw new ApiException(INVALID_CONFIG, String.format("Conflicting serviceName values found in JAAS "
                        + "and Kafka configs value in JAAS file %s, value in Kafka config %s", jaasServiceName, value));
            }
        });
    }

    /**
     * Kafka's JAAS syntax and the mechanism's module, and on the inter-broker listener the same own login (username
     * and password) as server.properties, where the broker's client side reads it from.
     */
    private void validateLogin(String name, String mechanism, String value) {
        JaasLoginModule module;
        try {
            module = JaasLoginModule.parse(value);
        } catch (IllegalArgumentException e) {
            // Kafka's parser words only: the value holds passwords and is never repeated.
            throw new ApiException(INVALID_CONFIG, "Invalid JAAS configuration in " + name + ": " + e.getMessage());
        }
        String wanted = JaasLoginModule.moduleFor(mechanism);
        if (!module.className().equals(wanted)) {
            throw new ApiException(INVALID_CONFIG, "login module " + module.className() + " in " + name
                    + " is not implemented (only " + wanted + ")");
        }
        if (mechanism.equals(interBrokerMechanism) && interBrokerListener != null
                && name.startsWith(LISTENER_PREFIX + interBrokerListener + ".")) {
            // The module also holds this broker's own login to other brokers, which Tandem reads from
            // server.properties only: its users may change, that login may not.
            ListenerSecurity listener = saslListeners.get(interBrokerListener);
            JaasLoginModule current = listener == null ? null : listener.staticLogin(mechanism);
            if (current == null || !ownLogin(current).equals(ownLogin(module))) {
                throw new ApiException(INVALID_CONFIG, "Dynamic update of " + name + " is not supported by Tandem "
                        + "when it changes this broker's own login to other brokers (sasl.mechanism.inter.broker."
                        + "protocol): keep its username and password (or unsecuredLogin options)");
            }
        }
    }

    /** The options of a login module that make up the broker's own login (not the users it accepts). */
    private static Map<String, String> ownLogin(JaasLoginModule module) {
        Map<String, String> own = new TreeMap<>();
        module.options().forEach((k, v) -> {
            if (k.equals("username") || k.equals("password") || k.startsWith("unsecuredLogin")) own.put(k, v);
        });
        return own;
    }

    /** At the first read: the SASL listeners take the stored settings, as Kafka's broker builds them at start. */
    void start(Map<String, String> perBroker) {
        saslListeners.forEach((name, listener) -> {
            try {
                listener.startWithDynamicLogins(perBroker);
            } catch (IllegalArgumentException e) {
                System.getLogger(DynamicBrokerConfig.class.getName()).log(System.Logger.Level.ERROR,
                        "Stored SASL settings of listener {0} are not applied: {1}", listener.listenerName(),
                        e.getMessage());
            }
        });
    }
}
