package io.tandem.server.kafka.metadata;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Kafka 3.9's ZkConfigManager with its ConfigChangeListener (a ZkNodeChangeNotificationListener on
 * {@code /config/changes}): a child watch on the directory, and for every {@code config_change_NNN} newer than the
 * last one processed, the entity it names ({@code brokers/<id>}, {@code brokers/<default>}, {@code topics/<name>},
 * ...) is handed to the handler, which re-reads that entity's config. Nothing is read while nothing changes: the
 * broker polled its dynamic settings every second before, two ZooKeeper reads a second per broker for ever.
 *
 * <p>The newest notification is noted when the listener starts, before the caller's first read of the configs: a
 * change made in between is applied again (harmless), never missed. The handler runs on {@code executor}, never on
 * the store's notification thread; a burst of notifications costs one pass over the directory, not one each.
 */
public final class ConfigChangeListener {
    private static final System.Logger LOG = System.getLogger(ConfigChangeListener.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Pause before reading the notifications again after a failed pass (ZooKeeper between leaders, say). */
    static final long RETRY_MS = 1_000;

    /** What a notification names: Kafka's entity type ("brokers", "topics", "clients", ...) and entity name. */
    @FunctionalInterface
    public interface Handler {
        void changed(String entityType, String entityName) throws Exception;
    }

    private final ZnodeStore store;
    private final Executor executor;
    private final Handler handler;
    /** A pass is queued and has not started: a notification arriving meanwhile needs no other. */
    private final AtomicBoolean pending = new AtomicBoolean();
    /** Kafka's lastExecutedChange: the sequence number of the newest notification processed (-1: none). */
    private long lastProcessed = -1;

    public ConfigChangeListener(ZnodeStore store, Executor executor, Handler handler) {
        this.store = store;
        this.executor = executor;
        this.handler = handler;
    }

    /** Notes the newest notification (those already there are the caller's first read's) and sets the watch. */
    public synchronized void start() throws Exception {
        for (String child : store.getChildren(KafkaZkLayout.CONFIG_CHANGES)) {
            lastProcessed = Math.max(lastProcessed, sequence(child));
        }
        // Owned by this instance, not by its code: a second listener on the same store must not replace this one.
        store.watchChildren(KafkaZkLayout.CONFIG_CHANGES, this, this::schedule);
    }

    /** The sequence number processed last (-1 before any). */
    public synchronized long lastProcessed() {
        return lastProcessed;
    }

    private void schedule() {
        if (!pending.compareAndSet(false, true)) return;
        try {
            executor.execute(() -> {
                pending.set(false);
                process();
            });
        } catch (RejectedExecutionException closed) {
            pending.set(false); // the broker is shutting down
        }
    }

    /** Kafka's processNotifications: every notification newer than the last processed, in sequence order. */
    synchronized void process() {
        try {
            List<String> children = new ArrayList<>(store.getChildren(KafkaZkLayout.CONFIG_CHANGES));
            children.sort(null); // ZooKeeper's 10-digit counters sort as their numbers
            for (String child : children) {
                long sequence = sequence(child);
                if (sequence <= lastProcessed) continue;
                byte[] data = store.getData(KafkaZkLayout.CONFIG_CHANGES + "/" + child);
                // Purged meanwhile (older than 15 minutes): whatever it named was re-read by a later pass or start.
                if (data != null) apply(child, data);
                lastProcessed = sequence;
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot read the config change notifications; again in "
                    + RETRY_MS + " ms: " + e);
            try {
                CompletableFuture.delayedExecutor(RETRY_MS, TimeUnit.MILLISECONDS, executor).execute(this::schedule);
            } catch (RejectedExecutionException closed) {
                // the broker is shutting down
            }
        }
    }

    /** One notification, as Kafka's ConfigChangeListener reads both its versions; a bad one is logged and skipped. */
    private void apply(String child, byte[] data) {
        String entityType;
        String entityName;
        try {
            JsonNode root = JSON.readTree(data);
            int version = root.path("version").asInt(-1);
            if (version == 1) {
                entityType = root.path("entity_type").asText(null);
                entityName = root.path("entity_name").asText(null);
            } else if (version == 2) {
                String path = root.path("entity_path").asText("");
                int slash = path.indexOf('/');
                entityType = slash < 0 ? null : path.substring(0, slash);
                entityName = slash < 0 ? null : path.substring(slash + 1);
            } else {
                entityType = null;
                entityName = null;
            }
        } catch (java.io.IOException e) {
            entityType = null;
            entityName = null;
        }
        if (entityType == null || entityName == null || entityName.isEmpty()) {
            LOG.log(System.Logger.Level.ERROR, "Ignoring config change notification {0}: not one Kafka writes: {1}",
                    child, new String(data, java.nio.charset.StandardCharsets.UTF_8));
            return;
        }
        try {
            handler.changed(entityType, entityName);
        } catch (Exception e) {
            // As Kafka: one entity that cannot be applied does not hold back the notifications after it.
            LOG.log(System.Logger.Level.ERROR, "Config change " + child + " of " + entityType + "/" + entityName
                    + " could not be applied: " + e);
        }
    }

    /** The counter of {@code config_change_0000000042}; -1 for a child that is not a notification. */
    static long sequence(String child) {
        if (!child.startsWith(KafkaZkLayout.CONFIG_CHANGE_PREFIX)) return -1;
        try {
            return Long.parseLong(child.substring(KafkaZkLayout.CONFIG_CHANGE_PREFIX.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
