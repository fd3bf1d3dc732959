package io.tandem.server.kafka.quota;

import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Client quotas where Kafka 3.9 keeps them in ZooKeeper (AdminZkClient): each entity's config znode holds
 * {@code {"version":1,"config":{...}}}, and every change leaves a {@code /config/changes/config_change_NNNNNNNNNN}
 * notification naming the entity, which every broker watches. A user's znode also holds the user's SCRAM
 * credentials (see ScramCredentialStore): quota changes leave every other key as it is, and write only if the znode
 * did not change since it was read.
 */
public final class ClientQuotaStore {
    private static final String USERS = "/config/users";
    private static final String CLIENTS = "/config/clients";
    private static final String IPS = "/config/ips";
    /** Attempts at a read-modify-write before giving up (another writer kept changing the znode). */
    private static final int WRITE_ATTEMPTS_MAX = 10;

    private final ZnodeStore store;

    public ClientQuotaStore(ZnodeStore store) {
        this.store = store;
    }

    /** The entity's whole config (quota keys and any other), empty when it has none. */
    public Map<String, String> config(QuotaEntity entity) throws Exception {
        return KafkaZkLayout.decodeEntityConfig(store.getData(entity.path()));
    }

    /**
     * Every user, client, user+client and IP entity with its whole config (those without a config are left out).
     */
    public Map<QuotaEntity, Map<String, String>> all() throws Exception {
        Map<QuotaEntity, Map<String, String>> all = new LinkedHashMap<>();
        for (String user : store.getChildren(USERS)) {
            String name = QuotaEntity.desanitize(user);
            put(all, new QuotaEntity(name, null));
            for (String client : store.getChildren(USERS + "/" + user + "/clients")) {
                put(all, new QuotaEntity(name, QuotaEntity.desanitize(client)));
            }
        }
        for (String client : store.getChildren(CLIENTS)) put(all, new QuotaEntity(null, QuotaEntity.desanitize(client)));
        for (String ip : store.getChildren(IPS)) put(all, QuotaEntity.ofIp(QuotaEntity.desanitize(ip)));
        return all;
    }

    private void put(Map<QuotaEntity, Map<String, String>> all, QuotaEntity entity) throws Exception {
        Map<String, String> config = config(entity);
        if (!config.isEmpty()) all.put(entity, config);
    }

    /**
     * Applies the changes to the entity's config (a null value removes the key) and leaves the change notification,
     * as AdminZkClient.changeConfigs does (the znode is written even when nothing changed).
     */
    public void alter(QuotaEntity entity, Map<String, String> changes) throws Exception {
        String path = entity.path();
        for (int attempt = 0; attempt < WRITE_ATTEMPTS_MAX; attempt++) {
            ZnodeStore.Versioned current = store.getVersioned(path);
            Map<String, String> config = new LinkedHashMap<>(
                    KafkaZkLayout.decodeEntityConfig(current == null ? null : current.data()));
            for (Map.Entry<String, String> e : changes.entrySet()) {
                if (e.getValue() == null) config.remove(e.getKey());
                else config.put(e.getKey(), e.getValue());
            }
            byte[] data = KafkaZkLayout.encodeEntityConfig(config);
            boolean written = current == null ? store.create(path, data, false)
                    : store.setDataIfVersion(path, data, current.version());
            if (written) {
                store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/config_change_",
                        KafkaZkLayout.encodeConfigChange(entity.entityPath()));
                return;
            }
        }
        throw new IllegalStateException("the config of " + path + " kept changing while it was being written");
    }
}
