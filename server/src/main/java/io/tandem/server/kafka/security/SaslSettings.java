package io.tandem.server.kafka.security;

import java.util.List;
import java.util.Map;

/**
 * One SASL listener's settings: the mechanisms it offers (sasl.enabled.mechanisms, in the configured order, which is
 * the order SaslHandshake lists them in), PLAIN's users from the JAAS configuration, where SCRAM credentials are,
 * OAUTHBEARER's validator options (from its OAuthBearerLoginModule entry), the largest token accepted before
 * authentication (sasl.server.max.receive.size), and the longest an authenticated session lasts before the client
 * must re-authenticate, per mechanism (connections.max.reauth.ms, KIP-368; 0 or less: no limit but the credential's
 * own expiry),
 * the broker's delegation tokens (SCRAM with the tokenauth extension logs in with one), and GSSAPI's Kerberos login
 * and principal rules (null unless GSSAPI is enabled).
 */
public record SaslSettings(List<String> enabledMechanisms, Map<String, String> plainPasswords,
                           ScramCredentialStore scramCredentials, Map<String, String> oauthBearerOptions,
                           int receiveBytesMax, Map<String, Long> reauthMs, DelegationTokens delegationTokens,
                           GssapiSettings gssapi) {
    /**
     * The mechanisms Tandem implements on both sides: a listener serves them, the broker's own client (to other
     * brokers, and Tandem's tools) logs in with them, and their login modules may be dynamic broker configs.
     */
    public static final List<String> IMPLEMENTED_MECHANISMS = List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512",
            "OAUTHBEARER");
    /**
     * The mechanisms a listener serves: those above and GSSAPI (Kerberos), which the broker also logs in to other
     * brokers with (InterBrokerSecurity) but which Tandem's tools do not, and which is no dynamic login module.
     */
    public static final List<String> LISTENER_MECHANISMS = List.of("GSSAPI", "PLAIN", "SCRAM-SHA-256",
            "SCRAM-SHA-512", "OAUTHBEARER");
    /** Kafka's default sasl.server.max.receive.size. */
    public static final int RECEIVE_BYTES_MAX_DEFAULT = 524288;
    /** Kafka's default connections.max.reauth.ms: sessions are not bounded by the broker. */
    public static final long REAUTH_MS_DEFAULT = 0;

    public SaslSettings {
        enabledMechanisms = List.copyOf(enabledMechanisms);
        plainPasswords = Map.copyOf(plainPasswords);
        oauthBearerOptions = Map.copyOf(oauthBearerOptions);
        reauthMs = Map.copyOf(reauthMs);
    }

    /** Settings without GSSAPI. */
    public SaslSettings(List<String> enabledMechanisms, Map<String, String> plainPasswords,
                        ScramCredentialStore scramCredentials, Map<String, String> oauthBearerOptions,
                        int receiveBytesMax, Map<String, Long> reauthMs, DelegationTokens delegationTokens) {
        this(enabledMechanisms, plainPasswords, scramCredentials, oauthBearerOptions, receiveBytesMax, reauthMs,
                delegationTokens, null);
    }

    /** connections.max.reauth.ms for sessions of this mechanism ({@link #REAUTH_MS_DEFAULT} when unset). */
    public long reauthMs(String mechanism) {
        return reauthMs.getOrDefault(mechanism, REAUTH_MS_DEFAULT);
    }

    /** A new server for one exchange of the mechanism; null when the listener does not offer it. */
    SaslMechanismServer newServer(String mechanism) {
        if (!enabledMechanisms.contains(mechanism)) return null;
        if (mechanism.equals("PLAIN")) return new PlainServer(plainPasswords);
        if (mechanism.equals("OAUTHBEARER")) return new OAuthBearerServer(oauthBearerOptions);
        if (mechanism.equals("GSSAPI")) return gssapi == null ? null : new GssapiServer(gssapi);
        ScramMechanism scram = ScramMechanism.forName(mechanism);
        return scram == null ? null : new ScramServer(scram, scramCredentials, delegationTokens);
    }
}
