package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.AlterClientQuotasRequest;
import io.tandem.kafka.wire.message.AlterClientQuotasResponse;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.quota.ClientQuotas;
import io.tandem.server.kafka.quota.QuotaEntity;
import io.tandem.server.kafka.quota.QuotaType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * AlterClientQuotas as Kafka 3.9 in ZooKeeper mode (ZkAdminManager.alterClientQuotas), on any broker: each entry's
 * entity and operations are checked in Kafka's order with Kafka's INVALID_REQUEST messages (an empty entity, an
 * unknown entity type, an empty name, an unknown key, a fraction for a byte rate), then, unless validate_only, its
 * config znode is rewritten with the change notification; removing a key is never checked. An entry naming an
 * entity twice is answered once. IP entities and {@code controller_mutation_rate} are Kafka features Tandem does not
 * enforce, so they are refused with INVALID_REQUEST instead of being stored and ignored.
 */
final class AlterClientQuotasHandler implements ApiHandler<AlterClientQuotasRequest> {
    /** Kafka's user configs also hold the SCRAM credentials; setting one here fails as Kafka's (a PASSWORD key). */
    private static final Set<String> SCRAM_KEYS = Set.of("SCRAM-SHA-256", "SCRAM-SHA-512");
    private static final double EPSILON = 1e-6;

    private final ClientQuotas quotas;

    AlterClientQuotasHandler(ClientQuotas quotas) {
        this.quotas = quotas;
    }

    @Override
    public void handle(RequestContext context, AlterClientQuotasRequest request, Responder responder) {
        Map<Map<String, String>, short[]> errors = new LinkedHashMap<>();
        Map<Map<String, String>, String> messages = new LinkedHashMap<>();
        boolean changed = false;
        for (AlterClientQuotasRequest.EntryData entry : request.entries) {
            Map<String, String> entity = new LinkedHashMap<>();
            for (AlterClientQuotasRequest.EntityData e : entry.entity) entity.put(e.entityType, e.entityName);
            short error = Errors.NONE.code();
            String message = null;
            try {
                changed |= alter(entity, entry, request.validateOnly);
            } catch (ClientQuotaException e) {
                error = e.error();
                message = e.getMessage();
            } catch (Exception e) {
                error = Errors.UNKNOWN_SERVER_ERROR.code();
            }
            errors.put(entity, new short[] {error});
            messages.put(entity, message);
        }
        if (changed) {
            try {
                quotas.reload();
            } catch (Exception e) {
                // Stored: the change notification makes this broker read it again.
            }
        }
        AlterClientQuotasResponse response = new AlterClientQuotasResponse();
        errors.forEach((entity, error) -> {
            AlterClientQuotasResponse.EntryData data = new AlterClientQuotasResponse.EntryData();
            data.errorCode = error[0];
            data.errorMessage = messages.get(entity);
            data.entity = new ArrayList<>();
            entity.forEach((type, name) -> data.entity.add(
                    new AlterClientQuotasResponse.EntityData().setEntityType(type).setEntityName(name)));
            response.entries.add(data);
        });
        responder.send(response);
    }

    /** Checks and (unless validateOnly) applies one entry; true when something was written. */
    private boolean alter(Map<String, String> entityNames, AlterClientQuotasRequest.EntryData entry,
                          boolean validateOnly) throws Exception {
        QuotaEntity entity = entity(entityNames);
        Map<String, String> changes = new LinkedHashMap<>();
        for (AlterClientQuotasRequest.OpData op : entry.ops) {
            if (op.remove) {
                changes.put(op.key, null);
                continue;
            }
            if (entity.user() != null && SCRAM_KEYS.contains(op.key)) {
                throw new IllegalStateException("Unexpected config type PASSWORD");
            }
            if (QuotaType.CONTROLLER_MUTATION_RATE.equals(op.key)) {
                throw ClientQuotaException.invalid(op.key + " quotas are not implemented by Tandem");
            }
            QuotaType type = QuotaType.forKey(op.key);
            if (type == null) throw ClientQuotaException.invalid("Invalid configuration key " + op.key);
            if (type.whole()) {
                long whole = (long) (op.value + EPSILON);
                if (Math.abs((double) whole - op.value) > EPSILON) {
                    throw ClientQuotaException.invalid("Configuration " + op.key + " must be a LONG value");
                }
                changes.put(op.key, Long.toString(whole));
            } else {
                changes.put(op.key, Double.toString(op.value));
            }
        }
        if (validateOnly) return false;
        quotas.store().alter(entity, changes);
        return true;
    }

    /** Kafka's parseAndSanitizeQuotaEntity, with its messages; a null name is the default entity. */
    private static QuotaEntity entity(Map<String, String> names) throws ClientQuotaException {
        if (names.isEmpty()) throw ClientQuotaException.invalid("Invalid empty client quota entity");
        String user = null;
        String clientId = null;
        boolean ip = false;
        for (Map.Entry<String, String> e : names.entrySet()) {
            String name = e.getValue() == null ? QuotaEntity.DEFAULT : e.getValue();
            switch (e.getKey()) {
                case QuotaEntity.USER -> user = name;
                case QuotaEntity.CLIENT_ID -> clientId = name;
                case "ip" -> ip = true;
                default -> throw ClientQuotaException.invalid("Unhandled client quota entity type: " + e.getKey());
            }
            if (e.getValue() != null && e.getValue().isEmpty()) {
                throw ClientQuotaException.invalid("Empty " + e.getKey() + " not supported");
            }
        }
        if (ip && (user != null || clientId != null)) {
            throw ClientQuotaException.invalid("Invalid quota entity combination, IP entity should not be used with "
                    + "user/client ID entity.");
        }
        if (ip) throw ClientQuotaException.invalid("IP quotas (connection_creation_rate) are not implemented by Tandem");
        return new QuotaEntity(user, clientId);
    }
}
