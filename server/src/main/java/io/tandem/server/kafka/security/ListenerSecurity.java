package io.tandem.server.kafka.security;

import io.netty.handler.ssl.SslContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What one Kafka listener requires of its connections, from its security protocol (listener.security.protocol.map) and
 * the ssl.* / sasl.* keys and connections.max.reauth.ms, each looked up first under {@code listener.name.<listener>.}
 * as Kafka does: TLS ({@link #sslContext}, for SSL and SASL_SSL) and SASL ({@link #sasl}, for SASL_PLAINTEXT and
 * SASL_SSL).
 *
 * <p>The login modules ({@code listener.name.<listener>.<mechanism>.sasl.jaas.config}) and GSSAPI's
 * {@link #KERBEROS_KEYS} may also be dynamic broker configs of this broker. As in Kafka, those stored when the broker
 * starts are in force for its whole run ({@link #startWithDynamicLogins}); a later change is stored and takes effect
 * at the next start, because Kafka's SaslChannelBuilder reconfigures only its TLS keys, never its JAAS contexts, its
 * Kerberos logins or its principal-to-local rules.
 */
public final class ListenerSecurity {
    /** Kafka's default sasl.enabled.mechanisms. */
    private static final String ENABLED_MECHANISMS_DEFAULT = "GSSAPI";
    /** What a per-listener login module key ends with, after {@code listener.name.<listener>.<mechanism>}. */
    public static final String JAAS_CONFIG_SUFFIX = ".sasl.jaas.config";
    /**
     * GSSAPI's keys that Kafka lets change at runtime (DynamicListenerConfig.ReconfigurableConfigs), broker-wide or
     * under {@code listener.name.<listener>.}; sasl.kerberos.kinit.cmd aside, which Tandem never runs.
     */
    public static final Set<String> KERBEROS_KEYS = Set.of("sasl.kerberos.service.name",
            "sasl.kerberos.principal.to.local.rules", "sasl.kerberos.ticket.renew.window.factor",
            "sasl.kerberos.ticket.renew.jitter", "sasl.kerberos.min.time.before.relogin");

    private final String listenerName;
    private final String protocol;
    private final ListenerTls tls;
    /** The server.properties settings the listener was built from, to build its logins again over dynamic ones. */
    private final Map<String, String> staticSettings;
    private final ScramCredentialStore scram;
    private final DelegationTokens delegationTokens;
    /** The SASL settings new connections get (null without SASL): replaced once, at start, by the dynamic logins. */
    private volatile SaslSettings sasl;
    /** Set once the listener let its login go; guarded by this. */
    private boolean closed;

    private ListenerSecurity(String listenerName, String protocol, ListenerTls tls, SaslSettings sasl,
                             Map<String, String> staticSettings, ScramCredentialStore scram,
                             DelegationTokens delegationTokens) {
        this.listenerName = listenerName;
        this.protocol = protocol;
        this.tls = tls;
        this.sasl = sasl;
        this.staticSettings = staticSettings;
        this.scram = scram;
        this.delegationTokens = delegationTokens;
    }

    public static ListenerSecurity plaintext(String listenerName) {
        return new ListenerSecurity(listenerName, "PLAINTEXT", null, null, Map.of(), null, null);
    }

    public String listenerName() {
        return listenerName;
    }

    public String protocol() {
        return protocol;
    }

    /** The listener's TLS (stores reloadable at runtime), null without TLS. */
    public ListenerTls tls() {
        return tls;
    }

    /** The SASL settings of a connection accepted now, null when the listener does not use SASL. */
    public SaslSettings sasl() {
        return sasl;
    }

    public boolean encrypted() {
        return tls != null;
    }

    /** The TLS context a new connection gets (it changes when the stores are reloaded), null without TLS. */
    public SslContext sslContext() {
        return tls == null ? null : tls.context();
    }

    /** The key of this listener's login module for {@code mechanism}, as server.properties and AlterConfigs name it. */
    public static String jaasConfigKey(String listenerName, String mechanism) {
        return "listener.name." + listenerName.toLowerCase(Locale.ROOT) + "." + mechanism.toLowerCase(Locale.ROOT)
                + JAAS_CONFIG_SUFFIX;
    }

    /** The mechanism's login module of server.properties (or the JAAS file), null when there is none. */
    public JaasLoginModule staticLogin(String mechanism) {
        return JaasLoginModule.find(listenerName, mechanism, staticSettings);
    }

    /**
     * Puts in force the login modules and Kerberos keys among this broker's dynamic configs ({@code perBroker},
     * decrypted) over the static ones, as Kafka's broker does when it builds its listeners at start; called once,
     * before the listener serves anyone. IllegalArgumentException when they cannot be honoured (as at start-up).
     */
    public synchronized void startWithDynamicLogins(Map<String, String> perBroker) {
        if (sasl == null || closed) return;
        Map<String, String> merged = new java.util.HashMap<>(staticSettings);
        String prefix = "listener.name." + listenerName.toLowerCase(Locale.ROOT) + ".";
        boolean any = false;
        for (Map.Entry<String, String> e : perBroker.entrySet()) {
            String key = e.getKey();
            boolean login = key.startsWith(prefix) && key.endsWith(JAAS_CONFIG_SUFFIX);
            boolean kerberos = KERBEROS_KEYS.contains(key)
                    || key.startsWith(prefix) && KERBEROS_KEYS.contains(key.substring(prefix.length()));
            if ((login || kerberos) && e.getValue() != null) {
                merged.put(e.getKey(), e.getValue());
                any = true;
            }
        }
        if (!any) return;
        SaslSettings started = sasl;
        sasl = saslSettings(listenerName, merged, scram, delegationTokens);
        // Acquired before the old one is let go: the same module keeps its login rather than log in again.
        releaseLogin(started);
    }

    /** Lets the listener's Kerberos login go (the broker's client to other brokers may still hold it). */
    public synchronized void close() {
        if (closed) return;
        closed = true;
        releaseLogin(sasl);
    }

    private static void releaseLogin(SaslSettings settings) {
        if (settings != null && settings.gssapi() != null) settings.gssapi().login().close();
    }

    /**
     * Builds the listener's security; an IllegalArgumentException names a setting that cannot be honoured (a
     * mechanism not implemented, PLAIN without users, an unreadable key store).
     */
    public static ListenerSecurity build(String listenerName, String protocol, Map<String, String> settings,
                                         ScramCredentialStore scram, DelegationTokens delegationTokens) {
        String prefix = "listener.name." + listenerName.toLowerCase(Locale.ROOT) + ".";
        java.util.function.Function<String, String> setting = key -> settings.containsKey(prefix + key)
                ? settings.get(prefix + key) : settings.get(key);
        ListenerTls ssl = protocol.equals("SSL") || protocol.equals("SASL_SSL")
                ? ListenerTls.load(listenerName, setting) : null;
        SaslSettings sasl = protocol.equals("SASL_PLAINTEXT") || protocol.equals("SASL_SSL")
                ? saslSettings(listenerName, settings, scram, delegationTokens) : null;
        return new ListenerSecurity(listenerName, protocol, ssl, sasl,
                java.util.Collections.unmodifiableMap(new java.util.HashMap<>(settings)), scram, delegationTokens);
    }

    /** A SASL listener's settings from server.properties-style {@code settings} (its logins among them). */
    private static SaslSettings saslSettings(String listenerName, Map<String, String> settings,
                                             ScramCredentialStore scram, DelegationTokens delegationTokens) {
        String prefix = "listener.name." + listenerName.toLowerCase(Locale.ROOT) + ".";
        java.util.function.Function<String, String> setting = key -> settings.containsKey(prefix + key)
                ? settings.get(prefix + key) : settings.get(key);
        String enabled = setting.apply("sasl.enabled.mechanisms");
        List<String> mechanisms = new ArrayList<>();
        for (String m : (enabled == null ? ENABLED_MECHANISMS_DEFAULT : enabled).split(",")) {
            if (m.isBlank()) continue;
            String name = m.trim().toUpperCase(Locale.ROOT);
            if (!SaslSettings.LISTENER_MECHANISMS.contains(name)) {
                throw new IllegalArgumentException("SASL mechanism " + name + " of listener " + listenerName
                        + " is not implemented (sasl.enabled.mechanisms may list "
                        + String.join(", ", SaslSettings.LISTENER_MECHANISMS) + ")");
            }
            mechanisms.add(name);
        }
        if (mechanisms.isEmpty()) {
            throw new IllegalArgumentException("listener " + listenerName + " has no SASL mechanism enabled");
        }
        Map<String, String> plain = Map.of();
        if (mechanisms.contains("PLAIN")) {
            JaasLoginModule module = JaasLoginModule.find(listenerName, "PLAIN", settings);
            if (module == null) {
                throw new IllegalArgumentException("Could not find a 'KafkaServer' or '"
                        + listenerName.toLowerCase(Locale.ROOT) + ".KafkaServer' entry in the JAAS configuration, "
                        + "nor " + prefix + "plain.sasl.jaas.config");
            }
            if (!module.className().equals(JaasLoginModule.PLAIN_LOGIN_MODULE)) {
                throw new IllegalArgumentException("login module " + module.className() + " for PLAIN on listener "
                        + listenerName + " is not implemented (only " + JaasLoginModule.PLAIN_LOGIN_MODULE + ")");
            }
            plain = module.plainPasswords();
        }
        Map<String, String> oauthBearer = Map.of();
        if (mechanisms.contains("OAUTHBEARER")) {
            // Kafka's default server callback handler (the unsecured validator) reads its options from here.
            JaasLoginModule module = JaasLoginModule.find(listenerName, "OAUTHBEARER", settings);
            if (module != null && !module.className().equals(JaasLoginModule.OAUTHBEARER_LOGIN_MODULE)) {
                throw new IllegalArgumentException("login module " + module.className() + " for OAUTHBEARER on "
                        + "listener " + listenerName + " is not implemented (only " + JaasLoginModule.OAUTHBEARER_LOGIN_MODULE
                        + ")");
            }
            oauthBearer = module == null ? Map.of() : module.options();
        }
        String receiveMax = setting.apply("sasl.server.max.receive.size");
        int receiveBytesMax = receiveMax == null ? SaslSettings.RECEIVE_BYTES_MAX_DEFAULT
                : Integer.parseInt(receiveMax.trim());
        // Kafka's SaslChannelBuilder: listener.name.<l>.<mechanism>.connections.max.reauth.ms, then the
        // listener's, then the broker's.
        Map<String, Long> reauthMs = new java.util.HashMap<>();
        for (String mechanism : mechanisms) {
            String value = settings.get(prefix + mechanism.toLowerCase(Locale.ROOT) + ".connections.max.reauth.ms");
            if (value == null) value = setting.apply("connections.max.reauth.ms");
            if (value != null) reauthMs.put(mechanism, Long.parseLong(value.trim()));
        }
        // Kafka's broker logs in at start-up (LoginManager), so a bad keytab or principal stops it there. Last, so
        // nothing after the login can fail and leave it held.
        GssapiSettings gssapi = mechanisms.contains("GSSAPI") ? GssapiSettings.build(listenerName, settings, setting)
                : null;
        return new SaslSettings(mechanisms, plain, scram, oauthBearer, receiveBytesMax, reauthMs, delegationTokens,
                gssapi);
    }
}
