package io.tandem.server.cli;

import io.tandem.kafka.client.GroupAdmin;
import io.tandem.kafka.client.GroupListing;
import io.tandem.kafka.client.KafkaClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem configs}: kafka-configs.sh's flags and output over the wire. Topics, brokers and groups are configs
 * (DescribeConfigs / IncrementalAlterConfigs); users and clients are quotas (DescribeClientQuotas /
 * AlterClientQuotas). One entity type per call: kafka-configs.sh's user+client-id pairs are not offered.
 */
@Command(name = "configs", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"Describe or alter configs of topics, brokers and groups, and quotas of users and clients "
                + "(any Kafka broker), with kafka-configs.sh's flags.",
                "  tandem configs --entity-type topics --entity-name orders --describe",
                "  tandem configs --entity-type topics --entity-name orders --alter --add-config retention.ms=1000",
                "  tandem configs --entity-type users --entity-default --alter --add-config producer_byte_rate=1024"})
public final class ConfigsCommand extends CliCommand {
    /** The resource type codes of DescribeConfigs (Kafka's ConfigResource.Type). */
    private static final byte TOPIC = 2;
    private static final byte BROKER = 4;
    private static final byte GROUP = 32;

    @Mixin KafkaOptions kafka;
    @Mixin OutputOption output;

    @Option(names = "--entity-type", paramLabel = "TYPE",
            description = "topics, brokers, groups (configs), users or clients (quotas).")
    String entityType;

    // kafka-configs.sh's entity flags: each stands for an --entity-type with its --entity-name or --entity-default.
    @Option(names = "--topic", paramLabel = "TOPIC", description = "The topic's name.")
    String topic;

    @Option(names = "--broker", paramLabel = "ID", description = "The broker's ID.")
    String broker;

    @Option(names = "--broker-defaults", description = "The config defaults for all brokers.")
    boolean brokerDefaults;

    @Option(names = "--group", paramLabel = "GROUP", description = "The group's ID.")
    String group;

    @Option(names = "--user", paramLabel = "PRINCIPAL", description = "The user's principal name.")
    String user;

    @Option(names = "--user-defaults", description = "The config defaults for all users.")
    boolean userDefaults;

    @Option(names = "--client", paramLabel = "ID", description = "The client's ID.")
    String clientId;

    @Option(names = "--client-defaults", description = "The config defaults for all clients.")
    boolean clientDefaults;

    @Option(names = "--entity-name", paramLabel = "NAME",
            description = "The topic, broker id, group, user principal or client id.")
    String entityName;

    @Option(names = "--entity-default",
            description = "The cluster-wide default of brokers, users or clients instead of one of them.")
    boolean entityDefault;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Action action;

    static final class Action {
        @Option(names = "--describe", required = true, description = "Show the entity's configs or quotas.")
        boolean describe;

        @Option(names = "--alter", required = true, description = "Change them (--add-config, --delete-config).")
        boolean alter;
    }

    @Option(names = "--add-config", paramLabel = "K=V,...",
            description = "Configs to set: k1=v1,k2=[v1,v2] (square brackets group a list value).")
    String addConfig;

    @Option(names = "--add-config-file", paramLabel = "FILE",
            description = "A properties file with configs to set (instead of --add-config).")
    Path addConfigFile;

    @Option(names = "--delete-config", paramLabel = "K,...", description = "Configs to remove: k1,k2.")
    String deleteConfig;

    @Option(names = "--all", description = "With --describe: every config, not only the dynamic ones.")
    boolean all;

    @Override
    protected int execute() throws IOException {
        takeEntityFlags();
        EntityType type = EntityType.parse(entityType);
        if (entityName != null && entityDefault) {
            throw new IllegalArgumentException("--entity-name and --entity-default cannot both be given");
        }
        if (entityDefault && !type.hasDefault) {
            throw new IllegalArgumentException("--entity-default is not valid for --entity-type " + type.flag);
        }
        if (type == EntityType.BROKERS && entityName != null) brokerId(entityName);
        if (action.alter) {
            if (entityName == null && !entityDefault) {
                throw new IllegalArgumentException("--entity-name or --entity-default must be specified with --alter"
                        + " of " + type.flag);
            }
            if (addConfig != null && addConfigFile != null) {
                throw new IllegalArgumentException("Only one of --add-config or --add-config-file must be specified");
            }
            if (addConfig == null && addConfigFile == null && deleteConfig == null) {
                throw new IllegalArgumentException("At least one of --add-config, --add-config-file, or"
                        + " --delete-config must be specified with --alter");
            }
        } else if (addConfig != null || addConfigFile != null || deleteConfig != null) {
            throw new IllegalArgumentException("--add-config, --add-config-file and --delete-config go with --alter,"
                    + " not --describe");
        }
        try (KafkaClient client = kafka.connect()) {
            ConfigsWire wire = new ConfigsWire(client);
            return action.alter ? alter(wire, type) : describe(client, wire, type);
        }
    }

    /**
     * Turns kafka-configs.sh's entity flags (--topic, --broker, --broker-defaults, ...) into --entity-type and
     * --entity-name or --entity-default, with Kafka's refusals when they are mixed with those.
     */
    private void takeEntityFlags() {
        List<String[]> given = new ArrayList<>();
        if (topic != null) given.add(new String[] {"topics", topic});
        if (broker != null) given.add(new String[] {"brokers", broker});
        if (brokerDefaults) given.add(new String[] {"brokers", null});
        if (group != null) given.add(new String[] {"groups", group});
        if (user != null) given.add(new String[] {"users", user});
        if (userDefaults) given.add(new String[] {"users", null});
        if (clientId != null) given.add(new String[] {"clients", clientId});
        if (clientDefaults) given.add(new String[] {"clients", null});
        if (given.isEmpty()) {
            if (entityType == null) throw new IllegalArgumentException("At least one entity type must be specified");
            return;
        }
        if (entityType != null || entityName != null || entityDefault) {
            throw new IllegalArgumentException("--entity-{type,name,default} should not be used in conjunction with"
                    + " specific entity flags");
        }
        if (given.size() > 1) {
            throw new IllegalArgumentException("give one entity flag: tandem configs takes one entity per call");
        }
        entityType = given.get(0)[0];
        entityName = given.get(0)[1];
        entityDefault = entityName == null;
    }

    /** The configs --add-config or --add-config-file sets. */
    private Map<String, String> configsToAdd() throws IOException {
        if (addConfigFile == null) return parseAdd(addConfig);
        Properties file = new Properties();
        try (java.io.Reader in = Files.newBufferedReader(addConfigFile, StandardCharsets.UTF_8)) {
            file.load(in);
        }
        Map<String, String> configs = new java.util.TreeMap<>();
        file.stringPropertyNames().forEach(key -> configs.put(key, file.getProperty(key)));
        return configs;
    }

    private int alter(ConfigsWire wire, EntityType type) throws IOException {
        Map<String, String> set = configsToAdd();
        List<String> delete = deleteConfig == null ? List.of() : List.of(deleteConfig.split(",")).stream()
                .map(String::trim).filter(k -> !k.isEmpty()).toList();
        String name = entityDefault ? "" : entityName;
        if (type.quota != null) {
            Map<String, Double> values = new LinkedHashMap<>();
            set.forEach((key, value) -> {
                try {
                    values.put(key, Double.parseDouble(value));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("quota " + key + "=" + value + " is not a number");
                }
            });
            wire.alterQuotas(type.quota, entityDefault ? null : entityName, values, delete);
        } else {
            wire.alter(type.resource, name, type == EntityType.BROKERS && !entityDefault ? brokerId(name) : -1,
                    set, delete);
        }
        if (output.json()) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("entityType", type.flag);
            result.put("entityName", entityDefault ? null : entityName);
            result.put("added", set);
            result.put("deleted", delete);
            Json.print(out(), result);
        } else if (entityDefault) {
            out().println("Completed updating default config for " + type.flag + " in the cluster.");
        } else {
            out().println("Completed updating config for " + type.singular() + " " + entityName + ".");
        }
        return ExitCodes.OK;
    }

    private int describe(KafkaClient client, ConfigsWire wire, EntityType type) {
        if (type.quota != null) return describeQuotas(wire, type);
        List<String> names = entityDefault ? List.of("") : entityName != null ? List.of(entityName)
                : allNames(client, type);
        List<Map<String, Object>> described = new ArrayList<>();
        for (String name : names) {
            int brokerId = type == EntityType.BROKERS && !name.isEmpty() ? brokerId(name) : -1;
            String dynamicSource = switch (type) {
                case TOPICS -> "DYNAMIC_TOPIC_CONFIG";
                case BROKERS -> name.isEmpty() ? "DYNAMIC_DEFAULT_BROKER_CONFIG" : "DYNAMIC_BROKER_CONFIG";
                default -> "DYNAMIC_GROUP_CONFIG";
            };
            List<ConfigsWire.Entry> entries = wire.describe(type.resource, name, brokerId).stream()
                    .filter(e -> all || e.source().equals(dynamicSource)).toList();
            if (output.json()) {
                Map<String, Object> entity = new LinkedHashMap<>();
                entity.put("entityType", type.flag);
                entity.put("entityName", name.isEmpty() ? null : name);
                entity.put("configs", entries);
                described.add(entity);
                continue;
            }
            if (name.isEmpty()) {
                out().println("Default configs for " + type.flag + " in the cluster are:");
            } else {
                out().println((all ? "All" : "Dynamic") + " configs for " + type.singular() + " " + name + " are:");
            }
            for (ConfigsWire.Entry e : entries) {
                String synonyms = e.synonyms().stream().map(s -> s.source() + ":" + s.name() + "=" + s.value())
                        .collect(Collectors.joining(", "));
                out().println("  " + e.name() + "=" + e.value() + " sensitive=" + e.sensitive()
                        + " synonyms={" + synonyms + "}");
            }
        }
        if (output.json()) Json.print(out(), described);
        return ExitCodes.OK;
    }

    /** Without --entity-name, kafka-configs.sh describes every topic, every broker and the default, every group. */
    private static List<String> allNames(KafkaClient client, EntityType type) {
        return switch (type) {
            case TOPICS -> client.metadata(null).topics().keySet().stream().sorted().toList();
            case BROKERS -> {
                List<String> ids = new ArrayList<>(client.metadata(List.of()).brokers().keySet().stream().sorted()
                        .map(String::valueOf).toList());
                ids.add("");
                yield ids;
            }
            default -> new GroupAdmin(client).listGroups().stream().map(GroupListing::groupId).sorted().toList();
        };
    }

    private int describeQuotas(ConfigsWire wire, EntityType type) {
        List<ConfigsWire.Quotas> quotas = wire.describeQuotas(type.quota, entityDefault ? "" : entityName);
        if (output.json()) {
            Json.print(out(), quotas);
            return ExitCodes.OK;
        }
        for (ConfigsWire.Quotas q : quotas) {
            String entity = q.entity().entrySet().stream().map(e -> {
                String label = switch (e.getKey()) {
                    case "user" -> "user-principal";
                    case "client-id" -> "client-id";
                    default -> e.getKey();
                };
                return e.getValue() == null ? "the default " + label : label + " '" + e.getValue() + "'";
            }).collect(Collectors.joining(", "));
            String values = q.values().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining(", "));
            out().println("Quota configs for " + entity + " are " + values);
        }
        return ExitCodes.OK;
    }

    /**
     * kafka-configs.sh's --add-config syntax: comma-separated k=v pairs, where a value in square brackets may hold
     * commas (a list config) and is sent without the brackets.
     */
    static Map<String, String> parseAdd(String text) {
        Map<String, String> configs = new LinkedHashMap<>();
        if (text == null) return configs;
        List<String> pairs = new ArrayList<>();
        int depth = 0;
        StringBuilder current = new StringBuilder();
        for (char c : text.toCharArray()) {
            if (c == '[') depth++;
            if (c == ']') depth--;
            if (c == ',' && depth == 0) {
                pairs.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        pairs.add(current.toString());
        for (String pair : pairs) {
            if (pair.isBlank()) continue;
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--add-config entry '" + pair + "' is not key=value");
            }
            String value = pair.substring(eq + 1).trim();
            if (value.startsWith("[") && value.endsWith("]")) value = value.substring(1, value.length() - 1);
            configs.put(pair.substring(0, eq).trim(), value);
        }
        return configs;
    }

    private static int brokerId(String name) {
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("The entity name for brokers must be a valid integer broker id, but "
                    + "it is: " + name);
        }
    }

    /** --entity-type values, with what each is on the wire. */
    enum EntityType {
        TOPICS("topics", TOPIC, null, false),
        BROKERS("brokers", BROKER, null, true),
        GROUPS("groups", GROUP, null, false),
        USERS("users", (byte) 0, "user", true),
        CLIENTS("clients", (byte) 0, "client-id", true);

        final String flag;
        final byte resource;
        /** The quota entity type (ClientQuotaEntity), null for config resources. */
        final String quota;
        final boolean hasDefault;

        EntityType(String flag, byte resource, String quota, boolean hasDefault) {
            this.flag = flag;
            this.resource = resource;
            this.quota = quota;
            this.hasDefault = hasDefault;
        }

        String singular() {
            return flag.substring(0, flag.length() - 1);
        }

        static EntityType parse(String text) {
            for (EntityType type : values()) {
                if (type.flag.equals(text.toLowerCase(Locale.ROOT))) return type;
            }
            throw new IllegalArgumentException("Invalid entity type " + text
                    + ", the entity type must be one of topics, brokers, users, clients, groups");
        }
    }
}
