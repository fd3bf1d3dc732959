package io.tandem.server.kerberos;

/**
 * When a Kerberos login from a keytab is made again, as Kafka 3.9's KerberosLogin and ZooKeeper 3.9's Login both
 * compute it (c.f. Hadoop's UserGroupInformation): at {@code windowFactor} of the ticket-granting ticket's life plus a
 * random share of up to {@code jitter} of it, never sooner than {@code minTimeBeforeReloginMs} after the previous
 * login unless the ticket would expire first, and then as soon as that floor allows.
 *
 * @param windowFactor           Kafka's sasl.kerberos.ticket.renew.window.factor (ZooKeeper: a constant 0.80)
 * @param jitter                 Kafka's sasl.kerberos.ticket.renew.jitter (ZooKeeper: a constant 0.05)
 * @param minTimeBeforeReloginMs Kafka's sasl.kerberos.min.time.before.relogin (ZooKeeper: a constant minute)
 */
public record RenewalPolicy(double windowFactor, double jitter, long minTimeBeforeReloginMs) {
    /** Apache ZooKeeper 3.9's Login: TICKET_RENEW_WINDOW, TICKET_RENEW_JITTER, MIN_TIME_BEFORE_RELOGIN. */
    public static final RenewalPolicy ZOOKEEPER = new RenewalPolicy(0.80, 0.05, 60_000);
    /** Kafka's defaults of the three sasl.kerberos.* keys, which are ZooKeeper's constants. */
    public static final RenewalPolicy KAFKA_DEFAULT = ZOOKEEPER;

    public RenewalPolicy {
        if (!(windowFactor >= 0) || !(jitter >= 0) || minTimeBeforeReloginMs < 0) {
            throw new IllegalArgumentException("a Kerberos renewal needs a non-negative window factor, jitter and "
                    + "minimum time before relogin: " + windowFactor + ", " + jitter + ", " + minTimeBeforeReloginMs);
        }
    }

    /**
     * When to log in again (epoch milliseconds) for a ticket-granting ticket valid from {@code startMs} to
     * {@code endMs}, at {@code nowMs}, the last login having been at {@code lastLoginMs}; {@code random} in [0, 1)
     * picks the jitter. Kafka's and ZooKeeper's loop: the proposed time, or now when that is past the expiry or when
     * the floor would pass it, else no sooner than the floor from now. Where they would then spin (a relogin refused
     * as too soon after the last one, retried at once), the time is pushed to the floor after the last login instead.
     */
    public long nextReloginMs(long startMs, long endMs, long nowMs, long lastLoginMs, double random) {
        long proposed = startMs + (long) ((endMs - startMs) * (windowFactor + jitter * random));
        if (proposed > endMs || nowMs + minTimeBeforeReloginMs > endMs) {
            proposed = nowMs;
        } else {
            proposed = Math.max(proposed, nowMs + minTimeBeforeReloginMs);
        }
        return Math.max(proposed, lastLoginMs + minTimeBeforeReloginMs);
    }
}
