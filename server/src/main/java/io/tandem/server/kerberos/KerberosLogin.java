package io.tandem.server.kerberos;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosPrincipal;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;

/**
 * A server's Kerberos login: the JDK's Krb5LoginModule run with the options of the server's JAAS entry (Kafka's
 * {@code listener.name.<l>.gssapi.sasl.jaas.config} or {@code KafkaServer} section, ZooKeeper's {@code Server}
 * section), typically {@code useKeyTab=true storeKey=true keyTab=... principal=...}. The subject it yields holds the
 * service's keys, which the JDK's GSSAPI SaslServer accepts tickets with ({@link GssapiServers}).
 *
 * <p>The first login is made at start-up, so a missing keytab or an unknown principal stops the server there; servers
 * then keep it fresh with {@link RenewingLogin}, which logs in again with the same options.
 */
public final class KerberosLogin {
    /** The JDK's Kerberos login module, the only one Tandem runs. */
    public static final String KRB5_LOGIN_MODULE = "com.sun.security.auth.module.Krb5LoginModule";

    private KerberosLogin() {
    }

    /**
     * Logs in with Krb5LoginModule and {@code options}; {@code name} names the login in errors (the JAAS section or
     * key). IllegalArgumentException with the JDK's reason when the login fails or yields no Kerberos principal.
     */
    public static Subject login(String name, Map<String, ?> options) {
        Map<String, Object> entryOptions = new HashMap<>(options);
        Configuration configuration = new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String section) {
                return new AppConfigurationEntry[] {new AppConfigurationEntry(KRB5_LOGIN_MODULE,
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, entryOptions)};
            }
        };
        Subject subject = new Subject();
        try {
            // No callback handler: a login that would have to prompt for a password (no usable keytab) fails.
            new LoginContext(name, subject, null, configuration).login();
        } catch (LoginException e) {
            throw new IllegalArgumentException("the Kerberos login of " + name + " failed: " + e.getMessage(), e);
        }
        if (principal(subject) == null) {
            throw new IllegalArgumentException("the Kerberos login of " + name + " yielded no Kerberos principal");
        }
        return subject;
    }

    /** The subject's (first) Kerberos principal name, null when it has none. */
    public static String principal(Subject subject) {
        Set<KerberosPrincipal> principals = subject.getPrincipals(KerberosPrincipal.class);
        return principals.isEmpty() ? null : principals.iterator().next().getName();
    }

    /**
     * The default realm of the JVM's Kerberos configuration (krb5.conf), or "" when there is none, as Kafka and
     * ZooKeeper find it: the realm the JDK gives a principal named without one.
     */
    public static String defaultRealm() {
        try {
            return new KerberosPrincipal("tmp", KerberosPrincipal.KRB_NT_PRINCIPAL).getRealm();
        } catch (IllegalArgumentException e) {
            return "";
        }
    }
}
