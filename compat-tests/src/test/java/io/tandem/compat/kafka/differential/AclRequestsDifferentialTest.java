package io.tandem.compat.kafka.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.types.RawTaggedField;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CreateAcls, DescribeAcls and DeleteAcls carrying what a client should not send: enum codes Kafka defines as UNKNOWN
 * (0) or ANY/MATCH where they make no sense, codes it does not define at all, and tagged fields it does not know.
 * Apache Kafka 3.9.1 in ZooKeeper mode (AclAuthorizer, on a Tandem ZooKeeper) and Tandem get the same requests, each
 * on a fresh connection, and must answer alike: the same error code (and message) per result, the same number of
 * resources or matching ACLs, or both closing the connection.
 */
class AclRequestsDifferentialTest {
    private static final short VERSION = 3;
    private static final byte UNKNOWN = 0;
    private static final byte ANY = 1;
    private static final byte UNDEFINED = 99;

    @TempDir
    Path dir;

    private record Probe(String name, ApiKeys key, Supplier<ApiMessage> request) {
    }

    private static CreateAclsRequestData.AclCreation creation(Consumer<CreateAclsRequestData.AclCreation> change) {
        // TOPIC "probe" LITERAL, User:bob from any host may READ: valid until the change.
        CreateAclsRequestData.AclCreation c = new CreateAclsRequestData.AclCreation().setResourceType((byte) 2)
                .setResourceName("probe").setResourcePatternType((byte) 3).setPrincipal("User:bob").setHost("*")
                .setOperation((byte) 3).setPermissionType((byte) 3);
        change.accept(c);
        return c;
    }

    private static DescribeAclsRequestData describe(Consumer<DescribeAclsRequestData> change) {
        DescribeAclsRequestData d = new DescribeAclsRequestData().setResourceTypeFilter(ANY).setResourceNameFilter(null)
                .setPatternTypeFilter(ANY).setPrincipalFilter(null).setHostFilter(null).setOperation(ANY)
                .setPermissionType(ANY);
        change.accept(d);
        return d;
    }

    private static DeleteAclsRequestData.DeleteAclsFilter deletion(Consumer<DeleteAclsRequestData.DeleteAclsFilter> change) {
        // Matches only what a probe may have created: User:carol's ACLs, which no probe creates.
        DeleteAclsRequestData.DeleteAclsFilter f = new DeleteAclsRequestData.DeleteAclsFilter().setResourceTypeFilter(ANY)
                .setResourceNameFilter(null).setPatternTypeFilter(ANY).setPrincipalFilter("User:carol")
                .setHostFilter(null).setOperation(ANY).setPermissionType(ANY);
        change.accept(f);
        return f;
    }

    private static List<Probe> probes() {
        List<Probe> probes = new ArrayList<>();
        Map<String, Consumer<CreateAclsRequestData.AclCreation>> creations = new LinkedHashMap<>();
        creations.put("resource type UNKNOWN", c -> c.setResourceType(UNKNOWN));
        creations.put("resource type ANY", c -> c.setResourceType(ANY));
        creations.put("resource type undefined", c -> c.setResourceType(UNDEFINED));
        creations.put("pattern type UNKNOWN", c -> c.setResourcePatternType(UNKNOWN));
        creations.put("pattern type ANY", c -> c.setResourcePatternType(ANY));
        creations.put("pattern type MATCH", c -> c.setResourcePatternType((byte) 2));
        creations.put("pattern type undefined", c -> c.setResourcePatternType(UNDEFINED));
        creations.put("operation UNKNOWN", c -> c.setOperation(UNKNOWN));
        creations.put("operation ANY", c -> c.setOperation(ANY));
        creations.put("operation undefined", c -> c.setOperation(UNDEFINED));
        creations.put("permission UNKNOWN", c -> c.setPermissionType(UNKNOWN));
        creations.put("permission ANY", c -> c.setPermissionType(ANY));
        creations.put("permission undefined", c -> c.setPermissionType(UNDEFINED));
        creations.put("unknown tagged field", c -> c.unknownTaggedFields().add(new RawTaggedField(7, new byte[] {1, 2})));
        creations.put("CLUSTER not named kafka-cluster", c -> c.setResourceType((byte) 4));
        creations.put("empty resource name", c -> c.setResourceName(""));
        creations.put("principal without a type", c -> c.setPrincipal("bob"));
        creations.forEach((name, change) -> probes.add(new Probe("CreateAcls " + name, ApiKeys.CREATE_ACLS,
                () -> new CreateAclsRequestData().setCreations(List.of(creation(change))))));
        creations.forEach((name, change) -> probes.add(new Probe("CreateAcls valid beside " + name, ApiKeys.CREATE_ACLS,
                () -> new CreateAclsRequestData().setCreations(List.of(creation(c -> c.setPrincipal("User:dave")),
                        creation(change))))));
        // Whether a valid ACL survives beside an invalid one on another resource: erin's on "other", then counted.
        probes.add(new Probe("CreateAcls valid on another resource beside a principal without a type",
                ApiKeys.CREATE_ACLS, () -> new CreateAclsRequestData().setCreations(List.of(
                        creation(c -> c.setPrincipal("User:erin").setResourceName("other")),
                        creation(c -> c.setPrincipal("erin")), creation(c -> c.setPrincipal("User:frank"))))));
        probes.add(new Probe("DescribeAcls after the principal without a type", ApiKeys.DESCRIBE_ACLS,
                () -> describe(d -> { })));
        probes.add(new Probe("CreateAcls unknown top-level tagged field", ApiKeys.CREATE_ACLS, () -> {
            CreateAclsRequestData data = new CreateAclsRequestData().setCreations(List.of(creation(c -> { })));
            data.unknownTaggedFields().add(new RawTaggedField(5, new byte[] {9}));
            return data;
        }));

        Map<String, Consumer<DescribeAclsRequestData>> describes = new LinkedHashMap<>();
        describes.put("resource type UNKNOWN", d -> d.setResourceTypeFilter(UNKNOWN));
        describes.put("resource type undefined", d -> d.setResourceTypeFilter(UNDEFINED));
        describes.put("pattern type UNKNOWN", d -> d.setPatternTypeFilter(UNKNOWN));
        describes.put("pattern type MATCH", d -> d.setPatternTypeFilter((byte) 2));
        describes.put("pattern type undefined", d -> d.setPatternTypeFilter(UNDEFINED));
        describes.put("operation UNKNOWN", d -> d.setOperation(UNKNOWN));
        describes.put("operation undefined", d -> d.setOperation(UNDEFINED));
        describes.put("permission UNKNOWN", d -> d.setPermissionType(UNKNOWN));
        describes.put("permission undefined", d -> d.setPermissionType(UNDEFINED));
        describes.put("unknown tagged field", d -> d.unknownTaggedFields().add(new RawTaggedField(3, new byte[] {4})));
        describes.forEach((name, change) -> probes.add(new Probe("DescribeAcls " + name, ApiKeys.DESCRIBE_ACLS,
                () -> describe(change))));

        Map<String, Consumer<DeleteAclsRequestData.DeleteAclsFilter>> deletes = new LinkedHashMap<>();
        deletes.put("resource type UNKNOWN", f -> f.setResourceTypeFilter(UNKNOWN));
        deletes.put("resource type undefined", f -> f.setResourceTypeFilter(UNDEFINED));
        deletes.put("pattern type UNKNOWN", f -> f.setPatternTypeFilter(UNKNOWN));
        deletes.put("pattern type MATCH", f -> f.setPatternTypeFilter((byte) 2));
        deletes.put("pattern type undefined", f -> f.setPatternTypeFilter(UNDEFINED));
        deletes.put("operation UNKNOWN", f -> f.setOperation(UNKNOWN));
        deletes.put("operation undefined", f -> f.setOperation(UNDEFINED));
        deletes.put("permission UNKNOWN", f -> f.setPermissionType(UNKNOWN));
        deletes.put("permission undefined", f -> f.setPermissionType(UNDEFINED));
        deletes.put("unknown tagged field", f -> f.unknownTaggedFields().add(new RawTaggedField(2, new byte[] {8})));
        deletes.forEach((name, change) -> probes.add(new Probe("DeleteAcls " + name, ApiKeys.DELETE_ACLS,
                () -> new DeleteAclsRequestData().setFilters(List.of(deletion(change))))));
        deletes.forEach((name, change) -> probes.add(new Probe("DeleteAcls valid beside " + name, ApiKeys.DELETE_ACLS,
                () -> new DeleteAclsRequestData().setFilters(List.of(deletion(f -> { }), deletion(change))))));
        return probes;
    }

    /** What a client sees: the errors per result and how much came back, or that the connection was closed. */
    private static String outcome(int port, Probe probe) throws IOException {
        try (WireClient client = new WireClient(port)) {
            ApiMessage response;
            try {
                response = client.call(probe.key(), VERSION, probe.request().get());
            } catch (IOException closed) {
                return "connection closed";
            }
            if (response instanceof CreateAclsResponseData create) {
                List<String> results = new ArrayList<>();
                create.results().forEach(r -> results.add(r.errorCode() + " " + r.errorMessage()));
                return results.toString();
            }
            if (response instanceof DescribeAclsResponseData describe) {
                int acls = describe.resources().stream().mapToInt(r -> r.acls().size()).sum();
                return describe.errorCode() + " " + describe.errorMessage() + ", " + describe.resources().size()
                        + " resources, " + acls + " ACLs";
            }
            DeleteAclsResponseData delete = (DeleteAclsResponseData) response;
            List<String> results = new ArrayList<>();
            delete.filterResults().forEach(r -> results.add(r.errorCode() + " " + r.errorMessage() + ", "
                    + r.matchingAcls().size() + " matching"));
            return results.toString();
        }
    }

    @Test
    void shouldAnswerMalformedAclRequestsAsApacheKafka39Does() throws Exception {
        Map<String, String> settings = new HashMap<>(Differential.SETTINGS);
        settings.put("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer");
        // The PLAINTEXT listener's principal: allowed every ACL request, so only the request's content decides.
        settings.put("super.users", "User:ANONYMOUS");
        TandemConfig kafkaConfig = TandemConfig.forTests(dir.resolve("tandem")).roles(EnumSet.of(TandemConfig.Role.KAFKA));
        settings.forEach(kafkaConfig::set);
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zookeeper"))
                     .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                     settings);
             Tandem tandem = Tandem.start(kafkaConfig)) {
            Differential.awaitReady(apache).close();
            Map<String, String> differences = new LinkedHashMap<>();
            int compared = 0;
            for (Probe probe : probes()) {
                String fromApache = outcome(apache.port(), probe);
                String fromTandem = outcome(tandem.kafkaPort(), probe);
                System.out.printf("acl differential: %s: Apache %s, Tandem %s%n", probe.name(), fromApache, fromTandem);
                compared++;
                if (!fromApache.equals(fromTandem)) {
                    differences.put(probe.name(), "Apache " + fromApache + ", Tandem " + fromTandem);
                }
            }
            assertTrue(compared >= 67, "every probe was compared: " + compared);
            assertEquals(Map.of(), differences, "answers to malformed ACL requests that differ from Apache's");
        }
    }
}
