package io.tandem.server.kafka.metadata;

import io.tandem.zk.client.SaslLogin;
import java.util.Map;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;

/**
 * How the broker logs in to ZooKeeper, decided as Kafka 3.9 decides it (JaasUtils.isZkSaslEnabled and the ZooKeeper
 * client's own rule): SASL when the JVM's JAAS configuration has the client section ({@code zookeeper.sasl.clientconfig},
 * default {@code Client}), with the user name and password its login module holds; DIGEST-MD5, as Apache's client uses
 * for a login without a Kerberos principal. A Kerberos section is refused: GSSAPI is not implemented.
 */
final class ZkClientLogin {
    static final String SASL_CLIENT = "zookeeper.sasl.client";
    static final String CONTEXT_NAME = "zookeeper.sasl.clientconfig";
    static final String JAVA_LOGIN_CONFIG = "java.security.auth.login.config";
    /** Apache's client property for the SASL protocol (the service name), default {@code zookeeper}. */
    static final String SERVER_PRINCIPAL_NAME = "zookeeper.sasl.client.username";

    private ZkClientLogin() {
    }

    /** The SASL login the broker's ZooKeeper client uses, or null when it connects without SASL. */
    static SaslLogin fromJaas() {
        boolean enabled = Boolean.parseBoolean(System.getProperty(SASL_CLIENT, "true"));
        String section = System.getProperty(CONTEXT_NAME, "Client");
        AppConfigurationEntry[] entries;
        try {
            entries = Configuration.getConfiguration().getAppConfigurationEntry(section);
        } catch (RuntimeException e) {
            // No JAAS configuration at all (the JDK's default file-based one found no file): no SASL, as in Kafka.
            if (System.getProperty(JAVA_LOGIN_CONFIG) == null) return null;
            throw new IllegalStateException("Exception while loading Zookeeper JAAS login context " + describe(), e);
        }
        if (entries == null) return null;
        if (!enabled) {
            // Kafka's broker stops here too rather than ignore a login it was given.
            throw new IllegalStateException("Exception while determining if ZooKeeper is secure " + describe()
                    + ": JAAS configuration is present, but system property " + SASL_CLIENT + " is set to false, "
                    + "which disables SASL in the ZooKeeper client");
        }
        for (AppConfigurationEntry entry : entries) {
            Map<String, ?> options = entry.getOptions();
            if (options.get("username") instanceof String user && options.get("password") instanceof String password) {
                return new SaslLogin(user, password, System.getProperty(SERVER_PRINCIPAL_NAME,
                        SaslLogin.DEFAULT_PROTOCOL));
            }
        }
        throw new IllegalStateException("the JAAS section '" + section + "' logs in without a username and password"
                + " (Kerberos): SASL GSSAPI from the broker to ZooKeeper is not implemented (DIGEST-MD5 is)");
    }

    /** Kafka's JaasUtils.zkSecuritySysConfigString, so the messages name the same settings. */
    static String describe() {
        return "[" + JAVA_LOGIN_CONFIG + "=" + System.getProperty(JAVA_LOGIN_CONFIG) + ", " + SASL_CLIENT + "="
                + System.getProperty(SASL_CLIENT, "default:true") + ", " + CONTEXT_NAME + "="
                + System.getProperty(CONTEXT_NAME, "default:Client") + "]";
    }
}
