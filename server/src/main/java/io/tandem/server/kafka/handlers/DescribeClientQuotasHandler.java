package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.DescribeClientQuotasRequest;
import io.tandem.kafka.wire.message.DescribeClientQuotasResponse;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.quota.ClientQuotaStore;
import io.tandem.server.kafka.quota.QuotaEntity;
import io.tandem.server.kafka.quota.QuotaType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * DescribeClientQuotas as Kafka 3.9 in ZooKeeper mode (ZkAdminManager.describeClientQuotas): the stored user,
 * client-id and user+client-id entities whose quota keys match the filter. A component matches one name (EXACT),
 * the default entity (DEFAULT) or any name but the default's absence (SPECIFIED); a strict filter leaves out
 * entities with a part it does not name. IP entities (KIP-612) answer a filter of one IP component, or no component
 * at all when not strict (Kafka's handleDescribeIpQuotas); an EXACT or DEFAULT IP component names one entity. A bad
 * filter is the whole request's error, with entries null.
 */
final class DescribeClientQuotasHandler implements ApiHandler<DescribeClientQuotasRequest> {
    static final byte MATCH_EXACT = 0;
    static final byte MATCH_DEFAULT = 1;
    static final byte MATCH_SPECIFIED = 2;

    private final Supplier<ClientQuotaStore> store;

    DescribeClientQuotasHandler(Supplier<ClientQuotaStore> store) {
        this.store = store;
    }

    /** A filter component: {@code match} is the name, {@link QuotaEntity#DEFAULT}, or null for "any name". */
    private record Component(String match) {
        boolean matches(String name) {
            return match == null ? name != null : match.equals(name);
        }
    }

    @Override
    public void handle(RequestContext context, DescribeClientQuotasRequest request, Responder responder) {
        DescribeClientQuotasResponse response = new DescribeClientQuotasResponse();
        try {
            response.entries = describe(request);
        } catch (ClientQuotaException e) {
            response.errorCode = e.error();
            response.errorMessage = e.getMessage();
            response.entries = null;
        } catch (Exception e) {
            response.errorCode = Errors.UNKNOWN_SERVER_ERROR.code();
            response.errorMessage = null;
            response.entries = null;
        }
        responder.send(response);
    }

    private List<DescribeClientQuotasResponse.EntryData> describe(DescribeClientQuotasRequest request)
            throws Exception {
        Component user = null;
        Component clientId = null;
        boolean ip = false;
        Component ipComponent = null;
        for (DescribeClientQuotasRequest.ComponentData c : request.components) {
            Component component = switch (c.matchType) {
                // Kafka's ofEntity keeps a null name as the default entity.
                case MATCH_EXACT -> new Component(c.match == null ? QuotaEntity.DEFAULT : c.match);
                case MATCH_DEFAULT -> new Component(QuotaEntity.DEFAULT);
                case MATCH_SPECIFIED -> new Component(null);
                // Kafka's request conversion throws IllegalArgumentException: an unknown server error.
                default -> throw new IllegalArgumentException("Unexpected match type: " + c.matchType);
            };
            switch (c.entityType) {
                case QuotaEntity.USER -> {
                    if (user != null) throw ClientQuotaException.invalid("Duplicate user filter component entity type");
                    user = component;
                }
                case QuotaEntity.CLIENT_ID -> {
                    if (clientId != null) {
                        throw ClientQuotaException.invalid("Duplicate client filter component entity type");
                    }
                    clientId = component;
                }
                case "ip" -> {
                    if (ip) throw ClientQuotaException.invalid("Duplicate ip filter component entity type");
                    ip = true;
                    ipComponent = component;
                }
                case "" -> throw ClientQuotaException.invalid("Unexpected empty filter component entity type");
                default -> throw new ClientQuotaException(Errors.UNSUPPORTED_VERSION.code(),
                        "Custom entity type '" + c.entityType + "' not supported");
            }
        }
        if ((user != null || clientId != null) && ip) {
            throw ClientQuotaException.invalid("Invalid entity filter component combination, IP filter component "
                    + "should not be used with user or clientId filter component.");
        }
        List<DescribeClientQuotasResponse.EntryData> entries = new ArrayList<>();
        Map<QuotaEntity, Map<String, String>> all = store.get().all();
        if (!ip) {
            for (Map.Entry<QuotaEntity, Map<String, String>> e : all.entrySet()) {
                QuotaEntity entity = e.getKey();
                if (entity.ip() != null) continue;
                if (!matches(user, entity.user(), request.strict)
                        || !matches(clientId, entity.clientId(), request.strict)) {
                    continue;
                }
                DescribeClientQuotasResponse.EntryData entry = entry(e.getValue(), QuotaType::isQuotaConfig);
                if (entry == null) continue;
                if (entity.user() != null) entry.entity.add(entityData(QuotaEntity.USER, entity.user()));
                if (entity.clientId() != null) entry.entity.add(entityData(QuotaEntity.CLIENT_ID, entity.clientId()));
                entries.add(entry);
            }
        }
        // Kafka's handleDescribeIpQuotas: one named (or the default) IP, every IP for an "any" component or for no
        // component without strict, none otherwise.
        if (user == null && clientId == null && (ip || !request.strict)) {
            for (Map.Entry<QuotaEntity, Map<String, String>> e : all.entrySet()) {
                QuotaEntity entity = e.getKey();
                if (entity.ip() == null) continue;
                if (ipComponent != null && ipComponent.match() != null && !ipComponent.match().equals(entity.ip())) {
                    continue;
                }
                DescribeClientQuotasResponse.EntryData entry = entry(e.getValue(), QuotaType.IP_CONNECTION_RATE::equals);
                if (entry == null) continue;
                entry.entity.add(entityData(QuotaEntity.IP, entity.ip()));
                entries.add(entry);
            }
        }
        return entries;
    }

    /** The entity's quota values among its config (Kafka's fromProps), or null when it has none. */
    private static DescribeClientQuotasResponse.EntryData entry(Map<String, String> config,
                                                               java.util.function.Predicate<String> quotaKey) {
        DescribeClientQuotasResponse.EntryData entry = new DescribeClientQuotasResponse.EntryData();
        config.forEach((key, value) -> {
            if (!quotaKey.test(key)) return;
            double parsed;
            try {
                parsed = Double.parseDouble(value.trim());
            } catch (NumberFormatException bad) {
                throw new IllegalStateException("Unexpected client quota configuration value: " + key + " -> " + value);
            }
            entry.values.add(new DescribeClientQuotasResponse.ValueData().setKey(key).setValue(parsed));
        });
        return entry.values.isEmpty() ? null : entry;
    }

    /** Kafka's matches: a named component wants the part (that name, or any); an unnamed one only under strict. */
    private static boolean matches(Component component, String name, boolean strict) {
        return component != null ? component.matches(name) : name == null || !strict;
    }

    private static DescribeClientQuotasResponse.EntityData entityData(String type, String name) {
        return new DescribeClientQuotasResponse.EntityData().setEntityType(type)
                .setEntityName(QuotaEntity.DEFAULT.equals(name) ? null : name);
    }
}
