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

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * AlterClientQuotas as Kafka 3.9 in ZooKeeper mode (ZkAdminManager.alterClientQuotas), on any broker: each entry's
 * entity and operations are checked in Kafka's order with Kafka's INVALID_REQUEST messages (an empty entity, an
 * unknown entity type, an empty name, an IP entity with a user or client id, an IP that does not resolve, an unknown
 * key, a fraction for a LONG or INT key), then, unless validate_only, its config znode is rewritten with the change
 * notification; removing a key is never checked. An entry naming an entity twice is answered once. User and client
 * entities take the byte rates, request_percentage and controller_mutation_rate; IP entities (KIP-612) only
 * connection_creation_rate.
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
            if (entity.ip() != null) {
                if (!QuotaType.IP_CONNECTION_RATE.equals(op.key)) {
                    throw ClientQuotaException.invalid("Invalid configuration key " + op.key);
                }
                // Kafka's INT key: (value + epsilon).toInt, which a value past the int range saturates.
                int whole = (int) (op.value + EPSILON);
                if (Math.abs((double) whole - op.value) > EPSILON) {
                    throw ClientQuotaException.invalid("Configuration " + op.key + " must be a INT value");
                }
                changes.put(op.key, Integer.toString(whole));
                continue;
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
        String ip = null;
        for (Map.Entry<String, String> e : names.entrySet()) {
            String name = e.getValue() == null ? QuotaEntity.DEFAULT : e.getValue();
            switch (e.getKey()) {
                case QuotaEntity.USER -> user = name;
                case QuotaEntity.CLIENT_ID -> clientId = name;
                case QuotaEntity.IP -> ip = name;
                default -> throw ClientQuotaException.invalid("Unhandled client quota entity type: " + e.getKey());
            }
            if (e.getValue() != null && e.getValue().isEmpty()) {
                throw ClientQuotaException.invalid("Empty " + e.getKey() + " not supported");
            }
        }
        if (ip != null && (user != null || clientId != null)) {
            throw ClientQuotaException.invalid("Invalid quota entity combination, IP entity should not be used with "
                    + "user/client ID entity.");
        }
        if (ip != null) {
            // Kafka checks the sanitized znode name (so an IPv6 address, whose colons are escaped, is refused too).
            String sanitized = QuotaEntity.ofIp(ip).entityPath().substring("ips/".length());
            if (!validIpEntity(sanitized)) {
                throw ClientQuotaException.invalid(sanitized + " is not a valid IP or resolvable host.");
            }
            return QuotaEntity.ofIp(ip);
        }
        return new QuotaEntity(user, clientId);
    }

    /** Kafka's DynamicConfig.Ip.isValidIpEntity: the default entity, or a name InetAddress resolves. */
    private static boolean validIpEntity(String ip) {
        if (ip.equals(QuotaEntity.DEFAULT)) return true;
        try {
            InetAddress.getByName(ip);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
