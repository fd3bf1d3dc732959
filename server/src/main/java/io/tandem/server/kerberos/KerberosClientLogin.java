package io.tandem.server.kerberos;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.function.Supplier;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosTicket;

/**
 * A Kerberos initiator's login (a client of ZooKeeper, of Kafka from the command line), made from its JAAS entry's
 * Krb5LoginModule options. Unlike an acceptor, an initiator needs a ticket-granting ticket, which expires: as the
 * refresh threads of Apache's Login (ZooKeeper) and KerberosLogin (Kafka) do with their defaults, it logs in again
 * from the keytab once 80% of the ticket's life has passed, no sooner than a minute after the last login. Here the
 * check runs when the login is asked for, at the start of each exchange, on the thread that computes its tokens (a
 * re-login asks the KDC), so a login is fresh when it is used and nothing runs in between.
 */
public final class KerberosClientLogin implements Supplier<Subject> {
    private static final System.Logger LOG = System.getLogger(KerberosClientLogin.class.getName());
    /** ZooKeeper's Login and Kafka's sasl.kerberos.ticket.renew.window.factor default. */
    public static final double RENEW_WINDOW_FACTOR = 0.8;
    /** ZooKeeper's Login MIN_TIME_BEFORE_RELOGIN and Kafka's sasl.kerberos.min.time.before.relogin default. */
    public static final long RELOGIN_MS_MIN = 60_000;

    private final String name;
    private final Map<String, ?> options;
    private Subject subject;
    private long loginMs;

    private KerberosClientLogin(String name, Map<String, ?> options, Subject subject) {
        this.name = name;
        this.options = Map.copyOf(options);
        this.subject = subject;
        this.loginMs = System.currentTimeMillis();
    }

    /**
     * Logs in now (start-up, so a missing keytab or unknown principal stops there); {@code name} names the login in
     * errors. IllegalArgumentException with the JDK's reason when the login fails.
     */
    public static KerberosClientLogin login(String name, Map<String, ?> options) {
        return new KerberosClientLogin(name, options, KerberosLogin.login(name, options));
    }

    /** The principal logged in, e.g. {@code kafka/host@REALM}. */
    public synchronized String principal() {
        return KerberosLogin.principal(subject);
    }

    /** The login to start an exchange with, logged in again first when its ticket-granting ticket is due. */
    @Override
    public synchronized Subject get() {
        long now = System.currentTimeMillis();
        if (now - loginMs >= RELOGIN_MS_MIN && dueForRenewal(subject, now)) {
            try {
                subject = KerberosLogin.login(name, options);
                loginMs = now;
            } catch (IllegalArgumentException e) {
                // The old ticket may still be good for a while; the exchange will say so if it is not.
                LOG.log(Level.WARNING, "renewing the Kerberos login of {0} failed: {1}", name, e.getMessage());
            }
        }
        return subject;
    }

    /** True when the login has no ticket-granting ticket or has passed the renewal point of its life. */
    public static boolean dueForRenewal(Subject login, long nowMs) {
        for (KerberosTicket ticket : login.getPrivateCredentials(KerberosTicket.class)) {
            if (!ticket.getServer().getName().startsWith("krbtgt/")) continue;
            long start = ticket.getStartTime() == null ? ticket.getAuthTime().getTime()
                    : ticket.getStartTime().getTime();
            long end = ticket.getEndTime().getTime();
            return nowMs >= start + (long) ((end - start) * RENEW_WINDOW_FACTOR);
        }
        return true;
    }
}
