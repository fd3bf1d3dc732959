package io.tandem.server.kafka.metadata;

import io.tandem.server.kerberos.SessionLogins;
import io.tandem.server.kerberos.KerberosLogin;
import io.tandem.server.kerberos.RenewalPolicy;
import io.tandem.zk.client.GssapiLogin;
import io.tandem.zk.client.SaslLogin;
import java.util.Map;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;

/**
 * How the broker logs in to ZooKeeper, decided as Kafka 3.9 decides it (JaasUtils.isZkSaslEnabled and the ZooKeeper
 * client's own rule): SASL when the JVM's JAAS configuration has the client section ({@code zookeeper.sasl.clientconfig},
 * default {@code Client}). As Apache's client chooses (SecurityUtils.createSaslClient): DIGEST-MD5 with the user name
 * and password of a login module that holds them, GSSAPI as the principal of a Krb5LoginModule section, logged in at
 * start-up (a missing keytab stops the broker there), again for every new session as Apache's client logs in
 * ({@link SessionLogins}), and again when the session's ticket is due, asking for a ticket to
 * {@code zookeeper.sasl.client.username/host} as the ZooKeeper client's own system properties say
 * ({@link io.tandem.zk.client.GssapiLogin}). Another login module (one that would prompt, say) is refused.
 */
public final class ZkClientLogin {
    static final String SASL_CLIENT = "zookeeper.sasl.client";
    static final String CONTEXT_NAME = "zookeeper.sasl.clientconfig";
    static final String JAVA_LOGIN_CONFIG = "java.security.auth.login.config";
    /** Apache's client property for the SASL protocol (the service name), default {@code zookeeper}. */
    static final String SERVER_PRINCIPAL_NAME = "zookeeper.sasl.client.username";
    /** Apache's client property: name the server by the canonical name of its address (default true). */
    static final String CANONICALIZE_HOSTNAME = "zookeeper.sasl.client.canonicalize.hostname";
    /** Apache's client property: the server principal's realm (default the client principal's). */
    static final String SERVER_REALM = "zookeeper.server.realm";

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
        return fromSection(section, entries);
    }

    /**
     * The SASL login of a ZooKeeper client that is not a broker (Tandem's {@code zk} commands), decided as Apache's
     * 3.9 client decides it (ZooKeeperSaslClient): none with {@code zookeeper.sasl.client=false} or without the
     * section; when the section was named explicitly ({@code zookeeper.sasl.clientconfig}) or a JAAS file was given
     * and the section is missing, Apache's client logs a LoginException and goes on without SASL: this one stops
     * with that message (IllegalStateException) rather than speak unauthenticated to a server the user meant to log
     * in to.
     */
    public static SaslLogin forZooKeeperClient() {
        if (!Boolean.parseBoolean(System.getProperty(SASL_CLIENT, "true"))) return null;
        String explicitSection = System.getProperty(CONTEXT_NAME);
        String section = explicitSection == null ? "Client" : explicitSection;
        AppConfigurationEntry[] entries;
        try {
            entries = Configuration.getConfiguration().getAppConfigurationEntry(section);
        } catch (RuntimeException e) {
            if (explicitSection == null && System.getProperty(JAVA_LOGIN_CONFIG) == null) return null;
            throw new IllegalStateException("Zookeeper client cannot authenticate using the " + section
                    + " section of the supplied JAAS configuration: '" + System.getProperty(JAVA_LOGIN_CONFIG)
                    + "' because of a RuntimeException: " + e, e);
        }
        if (entries != null) return fromSection(section, entries);
        if (explicitSection != null) {
            throw new IllegalStateException("Client cannot SASL-authenticate because the specified JAAS "
                    + "configuration section '" + explicitSection + "' could not be found.");
        }
        if (System.getProperty(JAVA_LOGIN_CONFIG) != null) {
            throw new IllegalStateException("No JAAS configuration section named '" + section + "' was found in "
                    + "specified JAAS configuration file: '" + System.getProperty(JAVA_LOGIN_CONFIG) + "'.");
        }
        return null;
    }

    /** DIGEST-MD5 for a login module with a username and password, GSSAPI for Krb5LoginModule (logged in now). */
    private static SaslLogin fromSection(String section, AppConfigurationEntry[] entries) {
        String protocol = System.getProperty(SERVER_PRINCIPAL_NAME, SaslLogin.DEFAULT_PROTOCOL);
        for (AppConfigurationEntry entry : entries) {
            Map<String, ?> options = entry.getOptions();
            if (options.get("username") instanceof String user && options.get("password") instanceof String password) {
                return SaslLogin.digest(user, password, protocol);
            }
            if (entry.getLoginModuleName().equals(KerberosLogin.KRB5_LOGIN_MODULE)) {
                // One login per session handle, renewed while it is the session's, as Apache's ZooKeeper client
                // makes them (one Login per ZooKeeper object, for all its connections); the first one now.
                SessionLogins logins;
                try {
                    logins = new SessionLogins("the JAAS section '" + section + "'", options,
                            RenewalPolicy.ZOOKEEPER);
                } catch (IllegalArgumentException e) {
                    throw new IllegalStateException("Exception while loading Zookeeper JAAS login context "
                            + describe() + ": " + e.getMessage(), e);
                }
                return SaslLogin.gssapi(logins, protocol,
                        Boolean.parseBoolean(System.getProperty(CANONICALIZE_HOSTNAME, "true")),
                        System.getProperty(SERVER_REALM));
            }
        }
        throw new IllegalStateException("the JAAS section '" + section + "' logs in neither with a username and "
                + "password (DIGEST-MD5) nor with " + KerberosLogin.KRB5_LOGIN_MODULE + " (GSSAPI), the two logins "
                + "Tandem's ZooKeeper client implements");
    }

    /** A new session handle begins: a Kerberos login logs in again at its first connection (nothing for others). */
    static void newSession(SaslLogin login) {
        if (login instanceof GssapiLogin gssapi && gssapi.login() instanceof SessionLogins logins) logins.newSession();
    }

    /** Stops renewing a Kerberos login (its client is closed for good); nothing for any other login or null. */
    public static void release(SaslLogin login) {
        if (login instanceof GssapiLogin gssapi && gssapi.login() instanceof SessionLogins logins) logins.close();
    }

    /** Kafka's JaasUtils.zkSecuritySysConfigString, so the messages name the same settings. */
    static String describe() {
        return "[" + JAVA_LOGIN_CONFIG + "=" + System.getProperty(JAVA_LOGIN_CONFIG) + ", " + SASL_CLIENT + "="
                + System.getProperty(SASL_CLIENT, "default:true") + ", " + CONTEXT_NAME + "="
                + System.getProperty(CONTEXT_NAME, "default:Client") + "]";
    }
}
