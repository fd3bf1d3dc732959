package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.security.AclAuthorizer;
import io.tandem.server.kafka.security.Authorization;
import io.tandem.server.kafka.security.DelegationTokens;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.server.kafka.security.KafkaPrincipals;
import io.tandem.server.kafka.security.ListenerSecurity;
import io.tandem.server.kafka.security.PasswordEncoder;
import io.tandem.server.kafka.security.ScramCredentialStore;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A broker's security, built from its settings before any thread or file is opened, so that an unreadable key store,
 * an unknown mechanism or a bad encoder setting refuses to start.
 *
 * @param listeners                  each listener's TLS and SASL, by listener name, in the listeners setting's order
 * @param interBroker                how this broker's fetchers, controller channel and marker sender reach others
 * @param scramCredentials           SCRAM credentials, read from the metadata store once it connects
 * @param delegationTokens           delegation tokens as Kafka 3.9 keeps them (off without delegation.token.secret.key)
 * @param tokenExpiryCheckIntervalMs delegation.token.expiry.check.interval.ms: how often expired tokens are removed
 * @param passwordEncoder            password.encoder.secret's encoder of dynamic passwords (null: they are refused)
 * @param oldPasswordEncoder         password.encoder.old.secret's, to re-encrypt after a secret change; or null
 * @param authorization              authorizer.class.name's authorizer, or none; its ACLs load with the store
 */
record BrokerSecurity(Map<String, ListenerSecurity> listeners, InterBrokerSecurity interBroker,
                      ScramCredentialStore scramCredentials, DelegationTokens delegationTokens,
                      long tokenExpiryCheckIntervalMs, PasswordEncoder passwordEncoder,
                      PasswordEncoder oldPasswordEncoder, Authorization authorization) {
    private static final System.Logger LOG = System.getLogger(KafkaBroker.class.getName());

    /** {@code store}: the metadata store once connected (null before); SCRAM and tokens only read it after. */
    static BrokerSecurity build(BrokerConfig config, TandemConfig tandemConfig, Supplier<ZnodeStore> store)
            throws IOException {
        Map<String, String> settings = tandemConfig.settings();
        ScramCredentialStore scram = new ScramCredentialStore(store);
        String tokenSecret = tandemConfig.get("delegation.token.secret.key",
                tandemConfig.get("delegation.token.master.key", null));
        DelegationTokens tokens = new DelegationTokens(store, tokenSecret,
                tandemConfig.getLong("delegation.token.max.lifetime.ms", 604_800_000L),
                tandemConfig.getLong("delegation.token.expiry.time.ms", 86_400_000L), System::currentTimeMillis);
        long tokenExpiryCheckIntervalMs = tandemConfig.getLong("delegation.token.expiry.check.interval.ms",
                3_600_000L);
        Map<String, ListenerSecurity> listeners = new LinkedHashMap<>();
        try {
            return build(config, settings, scram, tokens, tokenExpiryCheckIntervalMs, listeners);
        } catch (IOException | RuntimeException e) {
            // The Kerberos logins of the listeners built so far are shared (SharedLogin): let them go.
            listeners.values().forEach(ListenerSecurity::close);
            throw e;
        }
    }

    private static BrokerSecurity build(BrokerConfig config, Map<String, String> settings, ScramCredentialStore scram,
                                        DelegationTokens tokens, long tokenExpiryCheckIntervalMs,
                                        Map<String, ListenerSecurity> listeners) throws IOException {
        for (BrokerConfig.Listener l : config.listeners()) {
            try {
                listeners.put(l.name(), ListenerSecurity.build(l.name(), l.securityProtocol(), settings, scram,
                        tokens));
            } catch (IllegalArgumentException e) {
                throw new IOException("listener " + l.name() + ": " + e.getMessage(), e);
            }
        }
        PasswordEncoder passwordEncoder;
        PasswordEncoder oldPasswordEncoder;
        Authorization authorization;
        try {
            passwordEncoder = PasswordEncoder.fromSettings(settings, PasswordEncoder.SECRET);
            oldPasswordEncoder = PasswordEncoder.fromSettings(settings, PasswordEncoder.OLD_SECRET);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        BrokerConfig.Listener interBrokerListener = config.interBroker();
        InterBrokerSecurity interBroker;
        try {
            interBroker = InterBrokerSecurity.build(interBrokerListener.name(), interBrokerListener.securityProtocol(),
                    settings);
        } catch (IllegalArgumentException e) {
            throw new IOException("inter-broker listener " + interBrokerListener.name() + ": " + e.getMessage(), e);
        }
        ListenerSecurity served = listeners.get(interBrokerListener.name());
        if (interBroker.reloadableTls() != null && served != null && served.tls() != null) {
            // The broker's own TLS client follows its listener's reloaded stores, as the server side does.
            served.tls().attachInterBrokerClient(interBroker.reloadableTls());
        }
        try {
            authorization = new Authorization(AclAuthorizer.configure(settings));
        } catch (IllegalArgumentException e) {
            interBroker.close();
            throw new IOException(e.getMessage(), e);
        }
        warnIfOtherBrokersAreRefused(authorization, interBroker, interBrokerListener);
        return new BrokerSecurity(Collections.unmodifiableMap(listeners), interBroker, scram, tokens,
                tokenExpiryCheckIntervalMs, passwordEncoder, oldPasswordEncoder, authorization);
    }

    /**
     * Lets the broker's Kerberos logins go (listeners and its client to other brokers), once its listeners and
     * inter-broker channels are closed: a login no other user of the JVM holds stops being renewed.
     */
    void close() {
        listeners.values().forEach(ListenerSecurity::close);
        interBroker.close();
    }

    /** The other brokers' requests are authorized like anyone's: their principal needs super.users or ACLs. */
    private static void warnIfOtherBrokersAreRefused(Authorization authorization, InterBrokerSecurity interBroker,
                                                     BrokerConfig.Listener listener) {
        if (!authorization.enabled()) return;
        if (interBroker.saslUser() == null && !listener.securityProtocol().equals("SSL")
                && !authorization.authorizer().isSuperUser(KafkaPrincipals.ANONYMOUS)) {
            // Brokers reach each other over a PLAINTEXT inter-broker listener as User:ANONYMOUS, as Apache's do:
            // like Apache, they need super.users or a CLUSTER_ACTION ACL for it, or replication is refused.
            LOG.log(System.Logger.Level.WARNING, "An authorizer is configured and " + KafkaPrincipals.ANONYMOUS
                    + " (the inter-broker principal on PLAINTEXT) is not in super.users: other brokers need a "
                    + "CLUSTER_ACTION ACL on the cluster for it");
        }
        String principal = interBroker.saslUser() == null ? null : "User:" + interBroker.saslUser();
        if (principal != null && !authorization.authorizer().isSuperUser(principal)) {
            // The same rule for a SASL inter-broker listener: the other brokers see this one as its login user.
            LOG.log(System.Logger.Level.WARNING, "An authorizer is configured and " + principal
                    + " (this broker's principal on the inter-broker listener) is not in super.users: other brokers "
                    + "need a CLUSTER_ACTION ACL on the cluster for it");
        }
    }
}
