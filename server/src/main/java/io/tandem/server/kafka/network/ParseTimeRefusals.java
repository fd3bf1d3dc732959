package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.AclPermissionType;
import io.tandem.kafka.wire.acl.PatternType;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.kafka.wire.message.CreateAclsRequest;
import io.tandem.kafka.wire.message.DeleteAclsRequest;
import io.tandem.kafka.wire.message.DescribeAclsRequest;

/**
 * What Kafka's request classes refuse while the broker parses a request (their constructors' validation): the request
 * never reaches a handler and Kafka's network thread closes the connection. CreateAcls, DescribeAcls and DeleteAcls
 * with an element whose code is UNKNOWN (0, for every one of the four enums) are refused so by Apache Kafka 3.9
 * (AclRequestsDifferentialTest); a code Kafka does not define at all passes parsing and is answered by the handler.
 */
final class ParseTimeRefusals {
    private ParseTimeRefusals() {
    }

    /** Why Kafka's parsing refuses the request, or null when it does not. */
    static String refusal(ApiKey key, ApiMessage request) {
        return switch (key) {
            case CREATE_ACLS -> {
                for (CreateAclsRequest.AclCreation c : ((CreateAclsRequest) request).creations) {
                    if (unknown(c.resourceType, c.resourcePatternType, c.operation, c.permissionType)) {
                        yield "CreatableAcls contain unknown elements";
                    }
                }
                yield null;
            }
            case DESCRIBE_ACLS -> {
                DescribeAclsRequest d = (DescribeAclsRequest) request;
                yield unknown(d.resourceTypeFilter, d.patternTypeFilter, d.operation, d.permissionType)
                        ? "Filter contain UNKNOWN elements" : null;
            }
            case DELETE_ACLS -> {
                for (DeleteAclsRequest.DeleteAclsFilter f : ((DeleteAclsRequest) request).filters) {
                    if (unknown(f.resourceTypeFilter, f.patternTypeFilter, f.operation, f.permissionType)) {
                        yield "Filters contain UNKNOWN elements";
                    }
                }
                yield null;
            }
            default -> null;
        };
    }

    private static boolean unknown(byte resourceType, byte patternType, byte operation, byte permission) {
        return resourceType == ResourceType.UNKNOWN.code() || patternType == PatternType.UNKNOWN.code()
                || operation == AclOperation.UNKNOWN.code() || permission == AclPermissionType.UNKNOWN.code();
    }
}
