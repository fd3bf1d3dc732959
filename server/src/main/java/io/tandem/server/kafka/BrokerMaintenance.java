package io.tandem.server.kafka;

import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ChangeNotifications;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A broker's periodic jobs, as Kafka's scheduler runs them: group timers, log retention and compaction, recovery-point
 * checkpoints, purgatory purges, ISR shrink and expand, change-notification and delegation-token
 * expiry, producer-state and committed-offset expiry. Each job logs its own failure and runs again next time; one job
 * failing never stops the others.
 *
 * <p>Jobs that may take long never share a thread with the group timers: the group coordinator's deadlines (session
 * and rebalance timeouts) run on a thread of their own, as Kafka's coordinator has its own timer, and the log work
 * (retention, compaction, checkpoints) runs on the log manager's threads. A compaction pass, a slow disk or a slow
 * ZooKeeper write in an ISR change then never delays detecting a consumer whose session expired.
 */
final class BrokerMaintenance implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BrokerMaintenance.class.getName());

    private final KafkaBroker broker;
    /** Set once the metadata store is connected (the maintenance jobs are scheduled before). */
    private volatile ChangeNotifications.Purger purger;
    /** Sleeps until the group coordinator's next deadline (session and rebalance timeouts); set in schedule. */
    private GroupTimer groupTimer;

    private BrokerMaintenance(KafkaBroker broker) {
        this.broker = broker;
    }

    /** Schedules the jobs; the returned handle stops the group timer (the log threads stop with the log manager). */
    static BrokerMaintenance schedule(KafkaBroker broker, ScheduledExecutorService scheduler,
                                      long tokenExpiryCheckIntervalMs, long replicaLagTimeMaxMs) {
        BrokerMaintenance jobs = new BrokerMaintenance(broker);
        BrokerConfig config = broker.config();
        jobs.groupTimer = new GroupTimer(broker.groups());
        if (broker.delegationTokens().enabled()) {
            every(scheduler, tokenExpiryCheckIntervalMs, jobs::removeExpiredTokens);
        }
        // The cleaner's dynamic settings (read before this, with the other dynamic broker configs) over the static.
        var dynamic = broker.topicConfigs().dynamic();
        broker.logs().startMaintenance(config.logRetentionCheckIntervalMs(),
                config.logFlushOffsetCheckpointIntervalMs(), config.logInitialTaskDelayMs(), config.logCleanerEnable(),
                (int) DynamicBrokerConfig.longSetting(dynamic, "log.cleaner.threads", config.logCleanerThreads()),
                DynamicBrokerConfig.longSetting(dynamic, "log.cleaner.backoff.ms", config.logCleanerBackoffMs()));
        every(scheduler, 1_000, broker.fetchPurgatory()::purgeCompleted);
        every(scheduler, 1_000, broker.producePurgatory()::purgeCompleted);
        every(scheduler, Math.max(replicaLagTimeMaxMs / 2, 1),
                () -> broker.replicas().maintainIsr(broker.logs().partitions().values()));
        every(scheduler, ChangeNotifications.PURGE_INTERVAL_MS, jobs::purgeChangeNotifications);
        every(scheduler, config.producerIdExpirationCheckIntervalMs(), jobs::expireProducers);
        every(scheduler, config.offsetsRetentionCheckIntervalMs(), jobs::expireOffsets);
        return jobs;
    }

    @Override
    public void close() {
        if (groupTimer != null) groupTimer.close();
    }

    private static void every(ScheduledExecutorService scheduler, long periodMs, Runnable job) {
        scheduler.scheduleWithFixedDelay(job, periodMs, periodMs, TimeUnit.MILLISECONDS);
    }

    /** Kafka's scheduled expireTokens: every broker removes what has expired (a second removal finds nothing). */
    private void removeExpiredTokens() {
        try {
            broker.delegationTokens().removeExpired();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot remove expired delegation tokens: " + e);
        }
    }

    private void purgeChangeNotifications() {
        try {
            ChangeNotifications.Purger current = purger;
            if (current == null) purger = current = new ChangeNotifications.Purger(broker.metadata().store());
            current.purgeIfDue(ChangeNotifications.EXPIRATION_MS, System.currentTimeMillis());
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "Cannot purge expired change notifications", e);
        }
    }

    private void expireProducers() {
        long now = System.currentTimeMillis();
        // Dynamic over static, as Kafka's DynamicProducerStateManagerConfig: read again at each check.
        long expirationMs = DynamicBrokerConfig.longSetting(broker.topicConfigs().dynamic(), "producer.id.expiration.ms",
                broker.config().producerIdExpirationMs());
        for (Partition partition : broker.logs().partitions().values()) {
            try {
                partition.expireProducers(now, expirationMs);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "Producer state expiry of " + partition.topicPartition()
                        + " failed", e);
            }
        }
    }

    private void expireOffsets() {
        long startNanos = System.nanoTime();
        try {
            int expired = broker.groups().expireOffsets(System.currentTimeMillis(),
                    broker.config().offsetsRetentionMinutes() * 60_000L);
            if (expired > 0) {
                LOG.log(System.Logger.Level.INFO, "Removed {0} expired offsets in {1} ms", expired,
                        Long.toString((System.nanoTime() - startNanos) / 1_000_000));
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "Offset expiry failed", e);
        }
    }
}
