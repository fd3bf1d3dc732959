package io.tandem.server.kerberos;

import java.util.HashMap;
import java.util.Map;
import javax.security.auth.Subject;

/**
 * One Kerberos login for every user of the JVM that logs in with the same Krb5LoginModule options and the same
 * renewal, as Kafka's LoginManager.acquireLoginManager shares one login per JAAS context (its name, or the
 * {@code sasl.jaas.config} value) and login class and its {@code sasl.*} settings: a broker's GSSAPI listener and
 * its client to other brokers on that listener read the same module, so they hold one ticket-granting ticket, got
 * by one exchange with the KDC and renewed by one {@link RenewingLogin}, instead of two for the same principal.
 * The options are the context here: two JAAS entries with the same options are the same login.
 *
 * <p>Reference-counted as Kafka's: {@link #acquire} logs in only when no user holds that login, and each user
 * {@link #close closes} its own handle; the last close stops the renewal and forgets the login, so the next user logs
 * in again. Closing one handle never touches the subject the others hold.
 *
 * <p>The first login happens under the class's lock, as Kafka's does under LoginManager's: logins are made at
 * start-up and at a listener's reconfiguration, never on an event loop, and two users asking at once must not both
 * log in.
 */
public final class SharedLogin implements AutoCloseable {
    /** The logins in use, by options and renewal; guarded by SharedLogin.class. */
    private static final Map<Key, Shared> LOGINS = new HashMap<>();

    private final Shared shared;
    /** Guarded by SharedLogin.class. */
    private boolean closed;

    private record Key(Map<String, ?> options, RenewalPolicy policy) {
    }

    private static final class Shared {
        private final Key key;
        private final Subject subject;
        private final RenewingLogin renewal;
        private int users;

        private Shared(Key key, Subject subject, RenewingLogin renewal) {
            this.key = key;
            this.subject = subject;
            this.renewal = renewal;
        }
    }

    private SharedLogin(Shared shared) {
        this.shared = shared;
    }

    /**
     * A handle on the login with {@code options} and {@code policy}: the one in use, or a new one logged in now and
     * renewed ({@code name} names it in errors and log lines). IllegalArgumentException as {@link KerberosLogin#login}
     * when a new login fails.
     */
    public static SharedLogin acquire(String name, Map<String, ?> options, RenewalPolicy policy) {
        Key key = new Key(Map.copyOf(options), policy);
        synchronized (SharedLogin.class) {
            Shared shared = LOGINS.get(key);
            if (shared == null) {
                Subject subject = KerberosLogin.login(name, key.options());
                shared = new Shared(key, subject, RenewingLogin.renew(name, key.options(), policy, subject));
                LOGINS.put(key, shared);
            }
            shared.users++;
            return new SharedLogin(shared);
        }
    }

    /** The login's subject, renewed in place; the same object for every handle on the login. */
    public Subject subject() {
        return shared.subject;
    }

    /** Lets this handle go (a second call does nothing); the last handle of a login stops its renewal. */
    @Override
    public void close() {
        synchronized (SharedLogin.class) {
            if (closed) return;
            closed = true;
            if (--shared.users > 0) return;
            LOGINS.remove(shared.key);
        }
        shared.renewal.stop();
    }

    /** How many handles hold the login with these options and renewal (0 when none is in use). */
    public static int users(Map<String, ?> options, RenewalPolicy policy) {
        synchronized (SharedLogin.class) {
            Shared shared = LOGINS.get(new Key(Map.copyOf(options), policy));
            return shared == null ? 0 : shared.users;
        }
    }
}
