package io.tandem.server.zookeeper;

import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.RealmCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;

/**
 * One connection's SASL DIGEST-MD5 exchange, as Apache's ZooKeeperSaslServer runs it: the JDK's SaslServer for
 * protocol {@code zookeeper} and server name {@code zk-sasl-md5}, passwords from the JAAS Server section's
 * {@code user_<name>} options, run by {@link JdkSaslServer}. The authorized id is the authenticated user name as given
 * (Apache's Kerberos name rules leave a plain name as it is).
 */
final class DigestSaslServer {
    static final String MECHANISM = "DIGEST-MD5";
    static final String PROTOCOL = "zookeeper";
    static final String SERVER_NAME = "zk-sasl-md5";

    private DigestSaslServer() {
    }

    /** A new exchange; SaslException when the JDK offers no DIGEST-MD5 server. */
    static ZkSaslServer create(Map<String, String> users, String superPassword) throws SaslException {
        String[] userName = new String[1];
        SaslServer server = Sasl.createSaslServer(MECHANISM, PROTOCOL, SERVER_NAME, null, callbacks -> {
            for (Callback callback : callbacks) {
                if (callback instanceof NameCallback name) {
                    if (users.containsKey(name.getDefaultName())) {
                        name.setName(name.getDefaultName());
                        userName[0] = name.getDefaultName();
                    }
                } else if (callback instanceof PasswordCallback password) {
                    String secret = "super".equals(userName[0]) && superPassword != null ? superPassword
                            : userName[0] == null ? null : users.get(userName[0]);
                    if (secret != null) password.setPassword(secret.toCharArray());
                } else if (callback instanceof RealmCallback realm) {
                    realm.setText(realm.getDefaultText());
                } else if (callback instanceof AuthorizeCallback authorize) {
                    // As Apache: authorized as the authenticated user, whatever authorization id the client asked.
                    authorize.setAuthorized(true);
                    authorize.setAuthorizedID(authorize.getAuthenticationID());
                }
            }
        });
        if (server == null) throw new SaslException("the JDK offers no " + MECHANISM + " SaslServer");
        return new JdkSaslServer(server);
    }
}
