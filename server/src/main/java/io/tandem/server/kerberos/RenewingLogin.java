package io.tandem.server.kerberos;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosTicket;

/**
 * Every Kerberos login of a Tandem server (Kafka listeners and the inter-broker client, the ZooKeeper client port,
 * quorum members), kept fresh as Kafka's KerberosLogin and ZooKeeper's Login keep theirs: after the first login
 * ({@link KerberosLogin#login}, at start-up, so a bad keytab stops the server there), one scheduler logs in again from
 * the same options when the {@link RenewalPolicy} says, before the ticket-granting ticket expires. An initiator (the
 * inter-broker client, a quorum learner) needs a current ticket-granting ticket for every new connection; an acceptor
 * needs only its keys, but is renewed as Apache renews it, which costs one KDC round trip a ticket life.
 *
 * <p>The {@link Subject} stays the same object for the login's life, as in Apache (which logs out and in again on the
 * same subject): the fresh credentials are added to it and then the old ones removed, so a GSSAPI exchange starting
 * during a relogin always finds a usable ticket, and every holder of the subject sees the renewed one.
 *
 * <p>Relogins run on one daemon thread for the JVM: a login asks the KDC, a network round trip, which must never run
 * on a Netty event loop, and logins are few (one per listener, section or member). The scheduled task holds the
 * subject weakly: a server that is closed and dropped leaves at most one pending task, which finds the subject gone
 * and ends, so servers need not close their logins and nothing grows as servers come and go. A login shared by
 * several users ({@link SharedLogin}) is {@link #stop stopped} when its last user lets it go.
 */
public final class RenewingLogin {
    private static final Logger LOG = System.getLogger(RenewingLogin.class.getName());
    /** Kafka's KerberosLogin and ZooKeeper's Login retry a failed relogin after ten seconds. */
    static final long RETRY_MS = 10_000;
    private static final ScheduledThreadPoolExecutor RELOGINS = scheduler();

    private final String name;
    private final Map<String, ?> options;
    private final RenewalPolicy policy;
    private final WeakReference<Subject> subject;
    private long lastLoginMs;
    /** The next relogin, cancelled by {@link #stop}; guarded by this. */
    private ScheduledFuture<?> next;
    private boolean stopped;

    private RenewingLogin(String name, Map<String, ?> options, RenewalPolicy policy, Subject subject, long loginMs) {
        this.name = name;
        this.options = Map.copyOf(options);
        this.policy = policy;
        this.subject = new WeakReference<>(subject);
        this.lastLoginMs = loginMs;
    }

    private static ScheduledThreadPoolExecutor scheduler() {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "kerberos-relogin");
            thread.setDaemon(true);
            return thread;
        });
        scheduler.setRemoveOnCancelPolicy(true);
        return scheduler;
    }

    /**
     * Logs in now with Krb5LoginModule and {@code options} ({@code name} names the login in errors and log lines) and
     * schedules the relogins; the subject returned is renewed in place. IllegalArgumentException as
     * {@link KerberosLogin#login}. A login without a ticket-granting ticket (an acceptor with
     * {@code isInitiator=false}) has nothing to renew and is not scheduled, as in Apache.
     */
    public static Subject start(String name, Map<String, ?> options, RenewalPolicy policy) {
        Subject subject = KerberosLogin.login(name, options);
        renew(name, options, policy, subject);
        return subject;
    }

    /**
     * Schedules the relogins of {@code subject}, just logged in with {@code options}, for a caller that keeps the
     * subject and later {@link #stop stops} them ({@link SharedLogin}).
     */
    static RenewingLogin renew(String name, Map<String, ?> options, RenewalPolicy policy, Subject subject) {
        RenewingLogin login = new RenewingLogin(name, options, policy, subject, System.currentTimeMillis());
        login.scheduleNext(subject);
        return login;
    }

    /** No relogin from now on: the pending one is cancelled, and one already running schedules no other. */
    synchronized void stop() {
        stopped = true;
        if (next != null) next.cancel(false);
        LOG.log(Level.DEBUG, "Kerberos login of {0} is no longer renewed", name);
    }

    /** The subject's ticket-granting ticket (for its own realm), null when it holds none. */
    public static KerberosTicket ticketGrantingTicket(Subject subject) {
        for (KerberosTicket ticket : subject.getPrivateCredentials(KerberosTicket.class)) {
            String server = ticket.getServer().getName();
            if (server.equals("krbtgt/" + ticket.getServer().getRealm() + "@" + ticket.getServer().getRealm())) {
                return ticket;
            }
        }
        return null;
    }

    private void scheduleNext(Subject login) {
        KerberosTicket tgt = ticketGrantingTicket(login);
        if (tgt == null) return;
        long now = System.currentTimeMillis();
        Date start = tgt.getStartTime() != null ? tgt.getStartTime() : tgt.getAuthTime();
        long at = policy.nextReloginMs(start.getTime(), tgt.getEndTime().getTime(), now, lastLoginMs,
                ThreadLocalRandom.current().nextDouble());
        schedule(at - now);
        LOG.log(Level.DEBUG, () -> "Kerberos login of " + name + " is valid until " + tgt.getEndTime()
                + "; it is renewed at " + new Date(at));
    }

    private synchronized void schedule(long delayMs) {
        if (stopped) return;
        next = RELOGINS.schedule(this::relogin, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
    }

    /** On the relogin thread: logs in again into the same subject, or retries later; ends once the subject is gone. */
    private void relogin() {
        Subject login = subject.get();
        if (login == null) return;
        synchronized (this) {
            if (stopped) return;
        }
        try {
            Subject fresh = KerberosLogin.login(name, options);
            replaceCredentials(login, fresh);
            lastLoginMs = System.currentTimeMillis();
            LOG.log(Level.INFO, "Kerberos login of {0} renewed", name);
        } catch (RuntimeException e) {
            // The current ticket may still be good for a while; Apache retries too and keeps its thread. Anything
            // unchecked is caught as well: the scheduler would drop the task, and the login would never renew again.
            LOG.log(Level.WARNING, "renewing the Kerberos login of {0} failed, retrying in {1} ms: {2}", name,
                    RETRY_MS, e.getMessage());
            schedule(RETRY_MS);
            return;
        }
        scheduleNext(login);
    }

    /**
     * Puts the fresh login's credentials in {@code login}: first added, then the old ones that are not among them
     * removed (keys and the keytab are equal to the fresh ones and stay; the old tickets, service tickets included,
     * go), so the subject never lacks a ticket. The subject's credential set is guarded by its own monitor, which the
     * JDK also takes when it reads it.
     */
    static void replaceCredentials(Subject login, Subject fresh) {
        Set<Object> credentials = login.getPrivateCredentials();
        Set<Object> renewed;
        synchronized (fresh.getPrivateCredentials()) {
            renewed = new HashSet<>(fresh.getPrivateCredentials());
        }
        synchronized (credentials) {
            List<Object> old = new ArrayList<>(credentials);
            old.removeIf(renewed::contains);
            credentials.addAll(renewed);
            old.forEach(credentials::remove);
        }
    }
}
