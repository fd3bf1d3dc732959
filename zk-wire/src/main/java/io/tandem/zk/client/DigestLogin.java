package io.tandem.zk.client;

import java.net.InetSocketAddress;
import java.util.Objects;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.RealmCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;

/**
 * The credentials a {@link ZkClient} authenticates with over SASL DIGEST-MD5, as Apache's client does when its JAAS
 * section logs in without a Kerberos principal (SecurityUtils.createSaslClient): the user name as authorization id,
 * the protocol {@code zookeeper} (Apache's {@code zookeeper.sasl.client.username}) and the server name
 * {@code zk-sasl-md5}, which Apache's server hard-wires for DIGEST-MD5. Pure computation, no KDC: the server's
 * address plays no part.
 */
public record DigestLogin(String username, String password, String protocol) implements SaslLogin {
    /** The server name both sides of ZooKeeper's DIGEST-MD5 agree on. */
    static final String DIGEST_SERVER_NAME = "zk-sasl-md5";

    public DigestLogin {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(protocol, "protocol");
    }

    /** A fresh exchange: Apache's client starts one on every connection, the session's or a new one's. */
    @Override
    public SaslClient newClient(InetSocketAddress server) throws SaslException {
        SaslClient client = Sasl.createSaslClient(new String[] {"DIGEST-MD5"}, username, protocol,
                DIGEST_SERVER_NAME, null, this::handle);
        if (client == null) {
            throw new SaslException("this JVM has no SASL DIGEST-MD5 client");
        }
        return client;
    }

    private void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (callback instanceof NameCallback name) {
                name.setName(name.getDefaultName() != null ? name.getDefaultName() : username);
            } else if (callback instanceof PasswordCallback secret) {
                secret.setPassword(password.toCharArray());
            } else if (callback instanceof RealmCallback realm) {
                realm.setText(realm.getDefaultText());
            } else if (callback instanceof AuthorizeCallback authorize) {
                authorize.setAuthorized(authorize.getAuthenticationID().equals(authorize.getAuthorizationID()));
                if (authorize.isAuthorized()) {
                    authorize.setAuthorizedID(authorize.getAuthorizationID());
                }
            } else {
                throw new UnsupportedCallbackException(callback, "unrecognized SASL client callback");
            }
        }
    }

    @Override
    public String toString() {
        // Never the password: this record ends up in log lines and exception messages.
        return "DigestLogin[username=" + username + ", protocol=" + protocol + "]";
    }
}
