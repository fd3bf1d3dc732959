package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.AclPermissionType;
import io.tandem.kafka.wire.acl.PatternType;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.kafka.wire.message.CreateAclsRequest;
import io.tandem.kafka.wire.message.CreateAclsResponse;
import io.tandem.kafka.wire.message.DeleteAclsRequest;
import io.tandem.kafka.wire.message.DeleteAclsResponse;
import io.tandem.kafka.wire.message.DescribeAclsRequest;
import io.tandem.kafka.wire.message.DescribeAclsResponse;
import io.tandem.server.kafka.security.AccessControlEntry;
import io.tandem.server.kafka.security.AclAuthorizer;
import io.tandem.server.kafka.security.AclBinding;
import io.tandem.server.kafka.security.AclBindingFilter;
import io.tandem.server.kafka.security.Authorization;
import io.tandem.server.kafka.security.ResourcePattern;
import io.tandem.server.kafka.network.ApiHandler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.INVALID_REQUEST;
import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.ErrorCodes.SECURITY_DISABLED;
import static io.tandem.server.kafka.ErrorCodes.UNKNOWN_SERVER_ERROR;

/**
 * CreateAcls (30), DescribeAcls (29) and DeleteAcls (31) against the {@link AclAuthorizer}, as Kafka 3.9's AclApis
 * answers them (checked side by side by AclRequestsDifferentialTest): without an authorizer each answers
 * SECURITY_DISABLED ("No Authorizer is configured."). An element whose code is UNKNOWN (0) never gets here: Kafka's
 * request parsing refuses it and closes the connection ({@code ParseTimeRefusals}). A creation with an ANY or MATCH
 * element cannot even be turned into an ACL binding (Kafka's constructors throw before anything is checked), so the
 * whole request fails with UNKNOWN_SERVER_ERROR; any other ACL Kafka would not store (a code Kafka does not define, a
 * CLUSTER resource not named kafka-cluster, an empty name, a principal without a type) is INVALID_REQUEST and the
 * others of the request are still created. A filter with a code Kafka does not define matches nothing. Who may call
 * them is ApiAuthorization's rule.
 */
final class AclRequests {
    private static final String NO_AUTHORIZER = "No Authorizer is configured.";
    /** AclAuthorizer.createAcls wraps whatever its validation refuses in InvalidRequestException with these words. */
    private static final String CREATE_FAILED = "Failed to create ACL";

    private AclRequests() {
    }

    static ApiHandler<CreateAclsRequest> create(Authorization authorization) {
        return (context, request, responder) -> {
            CreateAclsResponse response = new CreateAclsResponse();
            AclAuthorizer authorizer = authorization.authorizer();
            List<AclBinding> valid = new ArrayList<>();
            List<CreateAclsResponse.AclCreationResult> validResults = new ArrayList<>();
            boolean unbuildable = authorizer != null && request.creations.stream().anyMatch(AclRequests::unbuildable);
            for (CreateAclsRequest.AclCreation c : request.creations) {
                CreateAclsResponse.AclCreationResult result = new CreateAclsResponse.AclCreationResult();
                // Kafka's result keeps its default message, the empty string, unless it fails.
                result.errorMessage = "";
                response.results.add(result);
                if (unbuildable) {
                    result.errorCode = UNKNOWN_SERVER_ERROR;
                    result.errorMessage = null;
                    continue;
                }
                if (authorizer == null) {
                    result.errorCode = SECURITY_DISABLED;
                    result.errorMessage = NO_AUTHORIZER;
                    continue;
                }
                AclBinding binding = new AclBinding(
                        new ResourcePattern(ResourceType.fromCode(c.resourceType), c.resourceName,
                                PatternType.fromCode(c.resourcePatternType)),
                        new AccessControlEntry(c.principal, c.host, AclOperation.fromCode(c.operation),
                                AclPermissionType.fromCode(c.permissionType)));
                String invalid = refusal(binding);
                if (invalid != null) {
                    result.errorCode = INVALID_REQUEST;
                    result.errorMessage = invalid;
                } else {
                    valid.add(binding);
                    validResults.add(result);
                }
            }
            failGroupsWithUntypedPrincipals(valid, validResults);
            if (!valid.isEmpty()) {
                try {
                    authorizer.create(valid);
                } catch (Exception e) {
                    ApiError error = ApiError.of(e);
                    for (CreateAclsResponse.AclCreationResult r : validResults) {
                        r.errorCode = error.code();
                        r.errorMessage = error.message();
                    }
                }
            }
            responder.send(response);
        };
    }

    static ApiHandler<DescribeAclsRequest> describe(Authorization authorization) {
        return (context, request, responder) -> {
            DescribeAclsResponse response = new DescribeAclsResponse();
            response.errorMessage = "";
            AclAuthorizer authorizer = authorization.authorizer();
            if (authorizer == null) {
                response.errorCode = SECURITY_DISABLED;
                response.errorMessage = NO_AUTHORIZER;
                responder.send(response);
                return;
            }
            AclBindingFilter filter = new AclBindingFilter(ResourceType.fromCode(request.resourceTypeFilter),
                    request.resourceNameFilter, PatternType.fromCode(request.patternTypeFilter),
                    request.principalFilter, request.hostFilter, AclOperation.fromCode(request.operation),
                    AclPermissionType.fromCode(request.permissionType));
            Map<ResourcePattern, DescribeAclsResponse.DescribeAclsResource> resources = new LinkedHashMap<>();
            for (AclBinding b : authorizer.describe(filter)) {
                DescribeAclsResponse.DescribeAclsResource resource = resources.computeIfAbsent(b.pattern(), p -> {
                    DescribeAclsResponse.DescribeAclsResource r = new DescribeAclsResponse.DescribeAclsResource();
                    r.resourceType = p.type().code();
                    r.resourceName = p.name();
                    r.patternType = p.patternType().code();
                    return r;
                });
                DescribeAclsResponse.AclDescription acl = new DescribeAclsResponse.AclDescription();
                acl.principal = b.entry().principal();
                acl.host = b.entry().host();
                acl.operation = b.entry().operation().code();
                acl.permissionType = b.entry().permission().code();
                resource.acls.add(acl);
            }
            response.resources.addAll(resources.values());
            responder.send(response);
        };
    }

    static ApiHandler<DeleteAclsRequest> delete(Authorization authorization) {
        return (context, request, responder) -> {
            DeleteAclsResponse response = new DeleteAclsResponse();
            AclAuthorizer authorizer = authorization.authorizer();
            List<AclBindingFilter> filters = new ArrayList<>();
            List<DeleteAclsResponse.DeleteAclsFilterResult> filterResults = new ArrayList<>();
            for (DeleteAclsRequest.DeleteAclsFilter f : request.filters) {
                DeleteAclsResponse.DeleteAclsFilterResult result = new DeleteAclsResponse.DeleteAclsFilterResult();
                result.errorMessage = null;
                response.filterResults.add(result);
                if (authorizer == null) {
                    result.errorCode = SECURITY_DISABLED;
                    result.errorMessage = NO_AUTHORIZER;
                    continue;
                }
                AclBindingFilter filter = new AclBindingFilter(ResourceType.fromCode(f.resourceTypeFilter),
                        f.resourceNameFilter, PatternType.fromCode(f.patternTypeFilter), f.principalFilter,
                        f.hostFilter, AclOperation.fromCode(f.operation), AclPermissionType.fromCode(f.permissionType));
                filters.add(filter);
                filterResults.add(result);
            }
            if (!filters.isEmpty()) {
                try {
                    List<List<AclBinding>> removed = authorizer.delete(filters);
                    for (int i = 0; i < filters.size(); i++) {
                        for (AclBinding b : removed.get(i)) filterResults.get(i).matchingAcls.add(matching(b));
                    }
                } catch (Exception e) {
                    ApiError error = ApiError.of(e);
                    for (DeleteAclsResponse.DeleteAclsFilterResult r : filterResults) {
                        r.errorCode = error.code();
                        r.errorMessage = error.message();
                    }
                }
            }
            responder.send(response);
        };
    }

    /**
     * Kafka's ResourcePattern and AccessControlEntry constructors refuse ANY (and a MATCH pattern) outright, and
     * AclApis builds every binding of the request before it looks at any: the request fails as a whole.
     */
    private static boolean unbuildable(CreateAclsRequest.AclCreation c) {
        return c.resourceType == ResourceType.ANY.code() || c.resourcePatternType == PatternType.ANY.code()
                || c.resourcePatternType == PatternType.MATCH.code() || c.operation == AclOperation.ANY.code()
                || c.permissionType == AclPermissionType.ANY.code();
    }

    /** Why Kafka refuses to create the ACL, in its words: AclApis' own checks first, then AclAuthorizer's. */
    private static String refusal(AclBinding binding) {
        ResourcePattern pattern = binding.pattern();
        if (pattern.type() == ResourceType.CLUSTER && !pattern.name().equals(ResourceType.CLUSTER_NAME)) {
            return "The only valid name for the CLUSTER resource is " + ResourceType.CLUSTER_NAME;
        }
        if (pattern.name().isEmpty()) return "Invalid empty resource name";
        AccessControlEntry entry = binding.entry();
        boolean unknown = pattern.type() == ResourceType.UNKNOWN || pattern.patternType() == PatternType.UNKNOWN
                || entry.operation() == AclOperation.UNKNOWN || entry.permission() == AclPermissionType.UNKNOWN;
        return unknown ? CREATE_FAILED : null;
    }

    /**
     * AclAuthorizer writes the validated bindings one resource pattern at a time and parses each principal while it
     * does (Kafka's AclEntry): a principal without a type fails the write of its whole pattern, which answers every
     * creation of that pattern with the unexpected error (UNKNOWN_SERVER_ERROR, no message) and stores none of them;
     * the other patterns are written. Removes those bindings from {@code valid} and answers them.
     */
    private static void failGroupsWithUntypedPrincipals(List<AclBinding> valid,
                                                        List<CreateAclsResponse.AclCreationResult> results) {
        java.util.Set<ResourcePattern> failed = new java.util.HashSet<>();
        for (AclBinding b : valid) {
            String principal = b.entry().principal();
            // Kafka's SecurityUtils.parseKafkaPrincipal: "type:name", split at the first colon.
            if (principal == null || principal.indexOf(':') < 0) failed.add(b.pattern());
        }
        if (failed.isEmpty()) return;
        for (int i = valid.size() - 1; i >= 0; i--) {
            if (failed.contains(valid.get(i).pattern())) {
                results.get(i).errorCode = UNKNOWN_SERVER_ERROR;
                results.get(i).errorMessage = null;
                valid.remove(i);
                results.remove(i);
            }
        }
    }

    private static DeleteAclsResponse.DeleteAclsMatchingAcl matching(AclBinding b) {
        DeleteAclsResponse.DeleteAclsMatchingAcl acl = new DeleteAclsResponse.DeleteAclsMatchingAcl();
        acl.errorCode = NONE;
        acl.errorMessage = null;
        acl.resourceType = b.pattern().type().code();
        acl.resourceName = b.pattern().name();
        acl.patternType = b.pattern().patternType().code();
        acl.principal = b.entry().principal();
        acl.host = b.entry().host();
        acl.operation = b.entry().operation().code();
        acl.permissionType = b.entry().permission().code();
        return acl;
    }
}
