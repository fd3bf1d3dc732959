package io.tandem.server.kerberos;

import io.tandem.zk.client.GssapiLogin;
import java.util.Map;
import javax.security.auth.Subject;

/**
 * The Kerberos logins of a ZooKeeper client (the broker's, the {@code zk} commands'), one per ZooKeeper session
 * handle, as Apache's 3.9 client makes them: a ZooKeeper object's ClientCnxn keeps one Login (SendThread's
 * {@code loginRef}), made at its first SASL connection, used by every connection of that handle (reconnections ask
 * the KDC for nothing but service tickets) and shut down when the handle closes. Kafka 3.9's broker opens a new
 * ZooKeeper handle when its session expires or its login is refused (ZooKeeperClient.reinitialize), so each new
 * session of the broker is one more AS exchange; this does the same, so an administrator counting AS exchanges at the
 * KDC sees the same number from either broker.
 *
 * <p>The first login is made by the constructor (at start-up, so a missing keytab stops the broker there rather than
 * at its first connection) and serves the first session. {@link #newSession} says a new session handle begins: the
 * next {@link #get} (called once per connection on the client's token threads, never on an event loop) logs in
 * again and stops renewing the login it replaces. The current login is renewed as Apache's Login renews it
 * ({@link RenewingLogin}) until {@link #close}.
 */
public final class SessionLogins implements GssapiLogin.Logins, AutoCloseable {
    private final String name;
    private final Map<String, ?> options;
    private final RenewalPolicy policy;
    private final String principal;
    /** The current session's login and its renewal; guarded by this. */
    private Subject current;
    private RenewingLogin renewal;
    /** Whether a new session handle began since the current login was made. */
    private boolean newSession;
    private boolean closed;

    /**
     * Logs in now ({@code name} names the login in errors and log lines); IllegalArgumentException as
     * {@link KerberosLogin#login} when the login fails.
     */
    public SessionLogins(String name, Map<String, ?> options, RenewalPolicy policy) {
        this.name = name;
        this.options = Map.copyOf(options);
        this.policy = policy;
        this.current = KerberosLogin.login(name, this.options);
        this.principal = KerberosLogin.principal(current);
        this.renewal = RenewingLogin.renew(name, this.options, policy, current);
    }

    /**
     * A new session handle begins (the previous one expired or was refused): it logs in anew now, on the thread
     * opening it and before its first connection, as Apache 3.9's client logs in when its new handle starts its first
     * connection (ClientCnxn.SendThread.startConnect makes the ZooKeeperSaslClient, whose first one fills the
     * handle's {@code loginRef}, before the socket connects), so a handle whose connections all fail before SASL has
     * logged in all the same. A failed login is tried again by the first connection's SASL exchange, which then
     * fails with it.
     */
    public synchronized void newSession() {
        newSession = true;
        try {
            get();
        } catch (IllegalArgumentException e) {
            // Left to the first connection's SASL exchange (newSession stays set), which answers AUTHFAILED.
        }
    }

    /**
     * The login for a connection: the current session's, or for the first connection of a new session a new one (an
     * AS exchange). IllegalArgumentException when that login fails (the connection's SASL exchange then fails, and
     * the next connection tries again), or once closed.
     */
    @Override
    public synchronized Subject get() {
        if (closed) throw new IllegalArgumentException("the Kerberos login of " + name + " was closed");
        if (newSession) {
            Subject fresh = KerberosLogin.login(name, options);
            renewal.stop();
            current = fresh;
            renewal = RenewingLogin.renew(name, options, policy, fresh);
            newSession = false;
        }
        return current;
    }

    @Override
    public String principal() {
        return principal;
    }

    /** Stops renewing the current login (the client is closed for good); a second call does nothing. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        renewal.stop();
    }
}
