package io.tandem.server.kafka.metadata;

import java.util.List;

/**
 * Kafka's change-notification directories ({@code /config/changes}, {@code /kafka-acl-changes},
 * {@code /kafka-acl-extended-changes}, {@code /delegation_token/token_changes}): a writer leaves a sequential node
 * there for every change, and every Kafka 3.9 broker deletes the ones older than 15 minutes once it has applied them
 * (ZkNodeChangeNotificationListener's changeExpirationMs), so the directories do not grow with every config or ACL
 * change ever made. Tandem's brokers do the same, so a cluster of Tandem brokers alone keeps them bounded too.
 */
public final class ChangeNotifications {
    /** Kafka's changeExpirationMs: a broker that was away longer re-reads everything anyway. */
    public static final long EXPIRATION_MS = 15 * 60 * 1000L;
    /** How often a broker looks for expired notifications. */
    public static final long PURGE_INTERVAL_MS = 60 * 1000L;

    /** Each directory and the prefix of the notifications in it. */
    private static final List<String[]> DIRECTORIES = List.of(
            new String[] {KafkaZkLayout.CONFIG_CHANGES, KafkaZkLayout.CONFIG_CHANGE_PREFIX},
            new String[] {KafkaZkLayout.ACL_LITERAL_CHANGES, KafkaZkLayout.ACL_CHANGE_PREFIX},
            new String[] {KafkaZkLayout.ACL_EXTENDED_CHANGES, KafkaZkLayout.ACL_CHANGE_PREFIX},
            new String[] {KafkaZkLayout.DELEGATION_TOKEN_CHANGES, KafkaZkLayout.DELEGATION_TOKEN_CHANGE_PREFIX});

    private ChangeNotifications() {
    }

    /** Deletes the notifications of every directory created more than {@code expirationMs} before {@code nowMs}. */
    public static int purgeExpired(ZnodeStore store, long expirationMs, long nowMs) throws Exception {
        return purge(store, expirationMs, nowMs)[0];
    }

    /** The notifications deleted and those left (not expired yet), over every directory. */
    private static int[] purge(ZnodeStore store, long expirationMs, long nowMs) throws Exception {
        int[] purgedAndLeft = new int[2];
        for (String[] directory : DIRECTORIES) {
            for (String child : store.getChildren(directory[0])) {
                if (!child.startsWith(directory[1])) continue;
                String path = directory[0] + "/" + child;
                long created = store.ctime(path);
                if (created >= 0 && nowMs - created > expirationMs) {
                    store.deleteRecursive(path); // another broker purging at once is harmless: a missing node is skipped
                    purgedAndLeft[0]++;
                } else {
                    purgedAndLeft[1]++;
                }
            }
        }
        return purgedAndLeft;
    }

    /**
     * The broker's periodic purge, which reads ZooKeeper only while there may be something to purge: at start, after
     * a notification appeared in one of the directories (a child watch on each says so), and while a pass leaves
     * some not yet expired. A broker of a cluster where nothing changes sends ZooKeeper nothing for it, as a Kafka
     * broker, which purges only when it processes a notification; before, every broker read the four directories
     * every minute for ever. A store without watches (a local directory, one process) is looked at every time.
     */
    public static final class Purger {
        private final ZnodeStore store;
        private final java.util.concurrent.atomic.AtomicBoolean due = new java.util.concurrent.atomic.AtomicBoolean(true);

        public Purger(ZnodeStore store) {
            this.store = store;
            if (store.watches()) {
                for (String[] directory : DIRECTORIES) store.watchChildren(directory[0], () -> due.set(true));
            }
        }

        /** {@link #purgeExpired} when due; 0 without a read otherwise. */
        public int purgeIfDue(long expirationMs, long nowMs) throws Exception {
            if (store.watches() && !due.getAndSet(false)) return 0;
            boolean lookAgain = true; // a failed pass is tried again next time
            try {
                int[] purgedAndLeft = purge(store, expirationMs, nowMs);
                lookAgain = purgedAndLeft[1] > 0;
                return purgedAndLeft[0];
            } finally {
                if (lookAgain) due.set(true);
            }
        }
    }
}
