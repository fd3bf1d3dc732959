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
        int purged = 0;
        for (String[] directory : DIRECTORIES) {
            purged += purgeExpired(store, directory[0], directory[1], expirationMs, nowMs);
        }
        return purged;
    }

    /** Deletes the notifications in {@code dir} (children starting with {@code prefix}) older than the expiration. */
    static int purgeExpired(ZnodeStore store, String dir, String prefix, long expirationMs, long nowMs)
            throws Exception {
        int purged = 0;
        for (String child : store.getChildren(dir)) {
            if (!child.startsWith(prefix)) continue;
            String path = dir + "/" + child;
            long created = store.ctime(path);
            if (created >= 0 && nowMs - created > expirationMs) {
                store.deleteRecursive(path); // another broker purging at once is harmless: a missing node is skipped
                purged++;
            }
        }
        return purged;
    }
}
