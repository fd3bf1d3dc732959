package io.tandem.server.zookeeper;

import io.tandem.server.kerberos.GssapiServers;
import io.tandem.server.kerberos.KerberosLogin;
import io.tandem.server.kerberos.KerberosName;
import io.tandem.server.kerberos.PrincipalToLocalRules;
import io.tandem.server.kerberos.RenewalPolicy;
import io.tandem.server.kerberos.RenewingLogin;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.SaslException;

/**
 * SASL GSSAPI (Kerberos) on the client port, as Apache 3.9's server runs it when its JAAS Server section logs in with
 * Krb5LoginModule: the JDK's GSSAPI SaslServer created as that login for the service and host of its principal
 * (ZooKeeperSaslServer), and the {@code sasl} id Apache's SaslServerCallbackHandler derives from the client's
 * principal: its short name under {@code zookeeper.security.auth_to_local} (default {@code DEFAULT}), then
 * {@code /host} unless {@code kerberos.removeHostFromPrincipal}, then {@code @REALM} unless
 * {@code kerberos.removeRealmFromPrincipal} (so {@code zkclient@EXAMPLE.COM} stays {@code zkclient@EXAMPLE.COM} by
 * default). A principal no rule names keeps the id the client asked for, as in Apache, which then leaves the
 * authorized id unset. Exchanges run on the connection's event loop ({@link JdkSaslServer}), as Apache runs them on its
 * own thread: accepting a ticket is local work with the keytab's keys, the KDC is not asked. The login is renewed as
 * Apache's Login renews it ({@link RenewingLogin}).
 */
final class ZkKerberos {
    private static final Logger LOG = System.getLogger(ZkKerberos.class.getName());
    /** Apache's KerberosName.parseRules: rules one after another, separated by white space only. */
    private static final Pattern RULE = Pattern.compile(
            "\\s*((DEFAULT)|(RULE:\\[(\\d*):([^\\]]*)](\\(([^)]*)\\))?(s/([^/]*)/([^/]*)/(g)?)?))");

    private final Subject login;
    private final boolean removeHost;
    private final boolean removeRealm;
    private final PrincipalToLocalRules rules;

    private ZkKerberos(Subject login, boolean removeHost, boolean removeRealm, PrincipalToLocalRules rules) {
        this.login = login;
        this.removeHost = removeHost;
        this.removeRealm = removeRealm;
        this.rules = rules;
    }

    /**
     * Logs the server in with the Krb5LoginModule {@code options}; {@code get} reads a zoo.cfg key or its
     * {@code zookeeper.} system property. IllegalArgumentException when the login fails or a rule does not parse.
     */
    static ZkKerberos login(String name, Map<String, ?> options, Function<String, String> get) {
        String ruleText = get.apply("security.auth_to_local");
        PrincipalToLocalRules rules = PrincipalToLocalRules.parse(KerberosLogin.defaultRealm(),
                splitRules(ruleText == null ? "DEFAULT" : ruleText));
        Subject subject = RenewingLogin.start(name, options, RenewalPolicy.ZOOKEEPER);
        return new ZkKerberos(subject, Boolean.parseBoolean(get.apply("kerberos.removeHostFromPrincipal")),
                Boolean.parseBoolean(get.apply("kerberos.removeRealmFromPrincipal")), rules);
    }

    /**
     * Apache's rule list (white-space separated, no /L or /U); IllegalArgumentException "Invalid rule: ..." as
     * Apache's.
     */
    static List<String> splitRules(String text) {
        List<String> rules = new ArrayList<>();
        String remaining = text.trim();
        while (!remaining.isEmpty()) {
            Matcher m = RULE.matcher(remaining);
            if (!m.lookingAt()) throw new IllegalArgumentException("Invalid rule: " + remaining);
            rules.add(m.group(1));
            remaining = remaining.substring(m.end());
        }
        return rules;
    }

    /** A new exchange for one connection. SaslException when the JDK cannot create the GSSAPI server. */
    ZkSaslServer newServer() throws SaslException {
        return new JdkSaslServer(GssapiServers.create(login, null, this::authorize));
    }

    /** Apache's SaslServerCallbackHandler.handleAuthorizeCallback for a Kerberos client. */
    private void authorize(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (!(callback instanceof AuthorizeCallback authorize)) throw new UnsupportedCallbackException(callback);
            authorize.setAuthorized(true);
            String principal = authorize.getAuthenticationID();
            try {
                KerberosName name = KerberosName.parse(principal);
                StringBuilder id = new StringBuilder(rules.shortName(name));
                if (!removeHost && name.hostName() != null) id.append('/').append(name.hostName());
                if (!removeRealm && name.realm() != null) id.append('@').append(name.realm());
                authorize.setAuthorizedID(id.toString());
            } catch (PrincipalToLocalRules.NoMatchingRule e) {
                LOG.log(Level.ERROR, () -> "Failed to set name based on Kerberos authentication rules: "
                        + e.getMessage());
            }
        }
    }
}
