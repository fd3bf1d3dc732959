package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.RawTaggedField;
import io.tandem.kafka.wire.message.CreateAclsRequest;
import io.tandem.kafka.wire.message.CreateAclsResponse;
import io.tandem.kafka.wire.message.DeleteAclsRequest;
import io.tandem.kafka.wire.message.DeleteAclsResponse;
import io.tandem.kafka.wire.message.DescribeAclsRequest;
import io.tandem.kafka.wire.message.DescribeAclsResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Raw CreateAcls, DescribeAcls and DeleteAcls (v3) with elements a client should not send, answered as Apache Kafka
 * 3.9.1 answers them (measured side by side in compat-tests' AclRequestsDifferentialTest): a code Kafka names UNKNOWN
 * (0) closes the connection, as Kafka's request parsing refuses it; ANY or MATCH in a creation fails the whole request
 * with UNKNOWN_SERVER_ERROR; a code Kafka does not define is INVALID_REQUEST "Failed to create ACL" in a creation and
 * matches nothing in a filter; unknown tagged fields are ignored.
 */
class AclRequestValidationTest {
    private static final short V3 = 3;
    private static final byte UNDEFINED = 99;
    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                .set("super.users", "User:ANONYMOUS"));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static CreateAclsRequest.AclCreation creation(String principal, Consumer<CreateAclsRequest.AclCreation> change) {
        CreateAclsRequest.AclCreation c = new CreateAclsRequest.AclCreation().setResourceType((byte) 2)
                .setResourceName("validated").setResourcePatternType((byte) 3).setPrincipal(principal).setHost("*")
                .setOperation((byte) 3).setPermissionType((byte) 3);
        change.accept(c);
        return c;
    }

    private static DescribeAclsRequest describeFilter(String principal) {
        return new DescribeAclsRequest().setResourceTypeFilter((byte) 1).setResourceNameFilter(null)
                .setPatternTypeFilter((byte) 1).setPrincipalFilter(principal).setHostFilter(null)
                .setOperation((byte) 1).setPermissionType((byte) 1);
    }

    private static DeleteAclsRequest.DeleteAclsFilter deleteFilter(String principal) {
        return new DeleteAclsRequest.DeleteAclsFilter().setResourceTypeFilter((byte) 1).setResourceNameFilter(null)
                .setPatternTypeFilter((byte) 1).setPrincipalFilter(principal).setHostFilter(null)
                .setOperation((byte) 1).setPermissionType((byte) 1);
    }

    private static CreateAclsResponse create(CreateAclsRequest.AclCreation... creations) throws Exception {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            return c.roundTrip(ApiKey.CREATE_ACLS, V3, (short) 1,
                    new CreateAclsRequest().setCreations(List.of(creations)), CreateAclsResponse::read);
        }
    }

    private static DescribeAclsResponse describe(DescribeAclsRequest request) throws Exception {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            return c.roundTrip(ApiKey.DESCRIBE_ACLS, V3, (short) 1, request, DescribeAclsResponse::read);
        }
    }

    private static boolean closes(ApiKey key, ApiMessage request) throws Exception {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            c.send(key, V3, request);
            return c.closedWithin(10_000);
        }
    }

    @Test
    void shouldCloseTheConnectionForAnUnknownCodeAsKafkasParsingDoes() throws Exception {
        List<Consumer<CreateAclsRequest.AclCreation>> creations = List.of(c -> c.setResourceType((byte) 0),
                c -> c.setResourcePatternType((byte) 0), c -> c.setOperation((byte) 0),
                c -> c.setPermissionType((byte) 0));
        for (Consumer<CreateAclsRequest.AclCreation> change : creations) {
            assertTrue(closes(ApiKey.CREATE_ACLS, new CreateAclsRequest().setCreations(List.of(
                    creation("User:closed", c -> { }), creation("User:closed", change)))));
        }
        assertEquals(0, describe(describeFilter("User:closed")).resources.size(), "nothing of it was created");
        List<Consumer<DescribeAclsRequest>> describes = List.of(d -> d.setResourceTypeFilter((byte) 0),
                d -> d.setPatternTypeFilter((byte) 0), d -> d.setOperation((byte) 0), d -> d.setPermissionType((byte) 0));
        for (Consumer<DescribeAclsRequest> change : describes) {
            DescribeAclsRequest request = describeFilter(null);
            change.accept(request);
            assertTrue(closes(ApiKey.DESCRIBE_ACLS, request));
        }
        List<Consumer<DeleteAclsRequest.DeleteAclsFilter>> deletes = List.of(f -> f.setResourceTypeFilter((byte) 0),
                f -> f.setPatternTypeFilter((byte) 0), f -> f.setOperation((byte) 0), f -> f.setPermissionType((byte) 0));
        for (Consumer<DeleteAclsRequest.DeleteAclsFilter> change : deletes) {
            DeleteAclsRequest.DeleteAclsFilter filter = deleteFilter(null);
            change.accept(filter);
            assertTrue(closes(ApiKey.DELETE_ACLS, new DeleteAclsRequest().setFilters(List.of(filter))));
        }
    }

    @Test
    void shouldFailTheWholeCreationForAnyOrMatchAsKafkasBindingConstructorsDo() throws Exception {
        List<Consumer<CreateAclsRequest.AclCreation>> unbuildable = List.of(c -> c.setResourceType((byte) 1),
                c -> c.setResourcePatternType((byte) 1), c -> c.setResourcePatternType((byte) 2),
                c -> c.setOperation((byte) 1), c -> c.setPermissionType((byte) 1));
        for (Consumer<CreateAclsRequest.AclCreation> change : unbuildable) {
            CreateAclsResponse response = create(creation("User:whole", c -> { }), creation("User:whole", change));
            assertEquals(2, response.results.size());
            for (CreateAclsResponse.AclCreationResult result : response.results) {
                assertEquals(Errors.UNKNOWN_SERVER_ERROR.code(), result.errorCode);
                assertNull(result.errorMessage);
            }
        }
        assertEquals(0, describe(describeFilter("User:whole")).resources.size(), "the valid one was not created either");
    }

    @Test
    void shouldRefuseOnlyTheCreationWithAnUndefinedCode() throws Exception {
        List<Consumer<CreateAclsRequest.AclCreation>> undefined = List.of(c -> c.setResourceType(UNDEFINED),
                c -> c.setResourcePatternType(UNDEFINED), c -> c.setOperation(UNDEFINED),
                c -> c.setPermissionType(UNDEFINED));
        List<String> answers = new ArrayList<>();
        for (Consumer<CreateAclsRequest.AclCreation> change : undefined) {
            CreateAclsResponse response = create(creation("User:beside", c -> { }), creation("User:beside", change));
            for (CreateAclsResponse.AclCreationResult r : response.results) answers.add(r.errorCode + " " + r.errorMessage);
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < undefined.size(); i++) expected.addAll(List.of("0 ", "42 Failed to create ACL"));
        assertEquals(expected, answers);
        CreateAclsResponse cluster = create(creation("User:beside", c -> c.setResourceType((byte) 4)),
                creation("User:beside", c -> c.setResourceName("")));
        assertEquals("42 The only valid name for the CLUSTER resource is kafka-cluster",
                cluster.results.get(0).errorCode + " " + cluster.results.get(0).errorMessage);
        assertEquals("42 Invalid empty resource name",
                cluster.results.get(1).errorCode + " " + cluster.results.get(1).errorMessage);
        assertEquals(1, describe(describeFilter("User:beside")).resources.size(), "the valid one was created");
    }

    @Test
    void shouldFailEveryCreationOfAResourceWhereOnePrincipalHasNoType() throws Exception {
        CreateAclsResponse response = create(creation("User:grace", c -> c.setResourceName("elsewhere")),
                creation("grace", c -> { }), creation("User:heidi", c -> { }));
        List<String> answers = new ArrayList<>();
        for (CreateAclsResponse.AclCreationResult r : response.results) answers.add(r.errorCode + " " + r.errorMessage);
        assertEquals(List.of("0 ", "-1 null", "-1 null"), answers);
        assertEquals(1, describe(describeFilter("User:grace")).resources.size(), "the other resource's was created");
        assertEquals(0, describe(describeFilter("User:heidi")).resources.size(), "the failed resource's was not");
    }

    @Test
    void shouldMatchNothingWithAnUndefinedCodeInAFilter() throws Exception {
        CreateAclsResponse.AclCreationResult kept = create(creation("User:kept", c -> { })).results.get(0);
        assertEquals("0 ", kept.errorCode + " " + kept.errorMessage, "Kafka's success leaves the message empty");
        List<Consumer<DescribeAclsRequest>> describes = List.of(d -> d.setResourceTypeFilter(UNDEFINED),
                d -> d.setPatternTypeFilter(UNDEFINED), d -> d.setOperation(UNDEFINED), d -> d.setPermissionType(UNDEFINED));
        for (Consumer<DescribeAclsRequest> change : describes) {
            DescribeAclsRequest request = describeFilter("User:kept");
            change.accept(request);
            DescribeAclsResponse response = describe(request);
            assertEquals(0, response.errorCode);
            assertEquals("", response.errorMessage);
            assertEquals(0, response.resources.size());
        }
        List<Consumer<DeleteAclsRequest.DeleteAclsFilter>> deletes = List.of(f -> f.setResourceTypeFilter(UNDEFINED),
                f -> f.setPatternTypeFilter(UNDEFINED), f -> f.setOperation(UNDEFINED), f -> f.setPermissionType(UNDEFINED));
        for (Consumer<DeleteAclsRequest.DeleteAclsFilter> change : deletes) {
            DeleteAclsRequest.DeleteAclsFilter filter = deleteFilter("User:kept");
            change.accept(filter);
            try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
                DeleteAclsResponse response = c.roundTrip(ApiKey.DELETE_ACLS, V3, (short) 1,
                        new DeleteAclsRequest().setFilters(List.of(filter)), DeleteAclsResponse::read);
                assertEquals(0, response.filterResults.get(0).errorCode);
                assertNull(response.filterResults.get(0).errorMessage);
                assertEquals(0, response.filterResults.get(0).matchingAcls.size());
            }
        }
        assertEquals(1, describe(describeFilter("User:kept")).resources.size(), "nothing was deleted");
    }

    @Test
    void shouldIgnoreUnknownTaggedFields() throws Exception {
        CreateAclsRequest.AclCreation tagged = creation("User:tagged", c -> { });
        tagged.unknownTaggedFields().add(new RawTaggedField(7, new byte[] {1, 2}));
        CreateAclsResponse response = create(tagged);
        assertEquals(0, response.results.get(0).errorCode);
        DescribeAclsRequest filter = describeFilter("User:tagged");
        filter.unknownTaggedFields().add(new RawTaggedField(3, new byte[] {4}));
        assertEquals(1, describe(filter).resources.size());
    }
}
