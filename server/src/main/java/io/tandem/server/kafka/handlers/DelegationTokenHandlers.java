package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.kafka.wire.message.CreateDelegationTokenRequest;
import io.tandem.kafka.wire.message.CreateDelegationTokenResponse;
import io.tandem.kafka.wire.message.DescribeDelegationTokenRequest;
import io.tandem.kafka.wire.message.DescribeDelegationTokenResponse;
import io.tandem.kafka.wire.message.DescribeDelegationTokenResponse.DescribedDelegationToken;
import io.tandem.kafka.wire.message.DescribeDelegationTokenResponse.DescribedDelegationTokenRenewer;
import io.tandem.kafka.wire.message.ExpireDelegationTokenRequest;
import io.tandem.kafka.wire.message.ExpireDelegationTokenResponse;
import io.tandem.kafka.wire.message.RenewDelegationTokenRequest;
import io.tandem.kafka.wire.message.RenewDelegationTokenResponse;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.security.Authorization;
import io.tandem.server.kafka.security.DelegationTokens;
import io.tandem.server.kafka.security.KafkaPrincipals;

import java.util.ArrayList;
import java.util.List;

/**
 * The delegation token APIs (KIP-48) as Kafka 3.9's KafkaApis and DelegationTokenManagerZk answer them, at Kafka's
 * versions: CreateDelegationToken 0-3, RenewDelegationToken 0-2, ExpireDelegationToken 0-2, DescribeDelegationToken
 * 0-3. Token requests are refused with DELEGATION_TOKEN_REQUEST_NOT_ALLOWED on PLAINTEXT, on SSL without a client
 * certificate and on connections that logged in with a token; without delegation.token.secret.key they are answered
 * DELEGATION_TOKEN_AUTH_DISABLED. A token for another owner needs CREATE_TOKENS on that USER; a token may be renewed
 * or expired only by its owner or a renewer; Describe shows one's own tokens (owner, requester or renewer) and those
 * with DESCRIBE on the DELEGATION_TOKEN or DESCRIBE_TOKENS on its owner's USER.
 */
final class DelegationTokenHandlers {
    private static final System.Logger LOG = System.getLogger(DelegationTokenHandlers.class.getName());
    /** Kafka's DelegationTokenManager.ErrorTimestamp. */
    private static final long ERROR_TIMESTAMP = -1;
    private static final String USER_TYPE = "User";

    private final DelegationTokens tokens;
    private final Authorization authorization;

    private DelegationTokenHandlers(DelegationTokens tokens, Authorization authorization) {
        this.tokens = tokens;
        this.authorization = authorization;
    }

    static void register(ApiRegistry registry, DelegationTokens tokens, Authorization authorization) {
        DelegationTokenHandlers handlers = new DelegationTokenHandlers(tokens, authorization);
        registry.register(ApiKey.CREATE_DELEGATION_TOKEN, 0, 3, (context, request, responder) ->
                responder.send(handlers.create(context, (CreateDelegationTokenRequest) request)));
        registry.register(ApiKey.RENEW_DELEGATION_TOKEN, 0, 2, (context, request, responder) ->
                responder.send(handlers.renew(context, (RenewDelegationTokenRequest) request)));
        registry.register(ApiKey.EXPIRE_DELEGATION_TOKEN, 0, 2, (context, request, responder) ->
                responder.send(handlers.expire(context, (ExpireDelegationTokenRequest) request)));
        registry.register(ApiKey.DESCRIBE_DELEGATION_TOKEN, 0, 3, (context, request, responder) ->
                responder.send(handlers.describe(context, (DescribeDelegationTokenRequest) request)));
    }

    /** Kafka's KafkaApis.allowTokenRequests. */
    private static boolean allowTokenRequests(RequestContext context) {
        String protocol = context.securityProtocol();
        return !(context.tokenAuthenticated() || protocol.equals("PLAINTEXT")
                || (protocol.equals("SSL") && context.principal().equals(KafkaPrincipals.ANONYMOUS)));
    }

    private static String principal(String type, String name) {
        return type + ":" + name;
    }

    private static String type(String principal) {
        return principal.substring(0, principal.indexOf(':'));
    }

    private static String name(String principal) {
        return principal.substring(principal.indexOf(':') + 1);
    }

    CreateDelegationTokenResponse create(RequestContext context, CreateDelegationTokenRequest request) {
        String requester = context.principal();
        String owner = request.ownerPrincipalName == null || request.ownerPrincipalName.isEmpty() ? requester
                : principal(request.ownerPrincipalType, request.ownerPrincipalName);
        List<String> renewers = new ArrayList<>();
        boolean renewersAreUsers = true;
        if (request.renewers != null) {
            for (CreateDelegationTokenRequest.CreatableRenewers r : request.renewers) {
                renewers.add(principal(r.principalType, r.principalName));
                renewersAreUsers &= USER_TYPE.equals(r.principalType);
            }
        }
        if (!allowTokenRequests(context)) return created(Errors.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, owner, requester);
        if (!owner.equals(requester) && !authorization.allowed(context, AclOperation.CREATE_TOKENS, ResourceType.USER,
                owner)) {
            return created(Errors.DELEGATION_TOKEN_AUTHORIZATION_FAILED, owner, requester);
        }
        if (!renewersAreUsers) return created(Errors.INVALID_PRINCIPAL_TYPE, owner, requester);
        if (!tokens.enabled()) return created(Errors.DELEGATION_TOKEN_AUTH_DISABLED, owner, requester);
        try {
            DelegationTokens.Token token = tokens.create(owner, requester, renewers, request.maxLifetimeMs);
            CreateDelegationTokenResponse response = created(Errors.NONE, owner, requester);
            response.issueTimestampMs = token.issueTimestamp();
            response.expiryTimestampMs = token.expiryTimestamp();
            response.maxTimestampMs = token.maxTimestamp();
            response.tokenId = token.tokenId();
            response.hmac = tokens.hmac(token.tokenId());
            return response;
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "Cannot create a delegation token for " + owner, e);
            return created(Errors.UNKNOWN_SERVER_ERROR, owner, requester);
        }
    }

    /** Kafka's CreateDelegationTokenResponse.prepareResponse: the owner and requester, -1 times, no id or HMAC. */
    private static CreateDelegationTokenResponse created(Errors error, String owner, String requester) {
        CreateDelegationTokenResponse response = new CreateDelegationTokenResponse();
        response.errorCode = error.code();
        response.principalType = type(owner);
        response.principalName = name(owner);
        response.tokenRequesterPrincipalType = type(requester);
        response.tokenRequesterPrincipalName = name(requester);
        response.issueTimestampMs = ERROR_TIMESTAMP;
        response.expiryTimestampMs = ERROR_TIMESTAMP;
        response.maxTimestampMs = ERROR_TIMESTAMP;
        response.tokenId = "";
        response.hmac = new byte[0];
        return response;
    }

    RenewDelegationTokenResponse renew(RequestContext context, RenewDelegationTokenRequest request) {
        DelegationTokens.Outcome outcome = change(context, () -> tokens.renew(context.principal(), request.hmac,
                request.renewPeriodMs));
        RenewDelegationTokenResponse response = new RenewDelegationTokenResponse();
        response.errorCode = Errors.valueOf(outcome.error()).code();
        response.expiryTimestampMs = outcome.expiryTimestamp();
        return response;
    }

    ExpireDelegationTokenResponse expire(RequestContext context, ExpireDelegationTokenRequest request) {
        DelegationTokens.Outcome outcome = change(context, () -> tokens.expire(context.principal(), request.hmac,
                request.expiryTimePeriodMs));
        ExpireDelegationTokenResponse response = new ExpireDelegationTokenResponse();
        response.errorCode = Errors.valueOf(outcome.error()).code();
        response.expiryTimestampMs = outcome.expiryTimestamp();
        return response;
    }

    private interface Change {
        DelegationTokens.Outcome run() throws Exception;
    }

    private DelegationTokens.Outcome change(RequestContext context, Change change) {
        if (!allowTokenRequests(context)) {
            return new DelegationTokens.Outcome("DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", ERROR_TIMESTAMP);
        }
        if (!tokens.enabled()) return new DelegationTokens.Outcome("DELEGATION_TOKEN_AUTH_DISABLED", ERROR_TIMESTAMP);
        try {
            return change.run();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "Cannot change a delegation token", e);
            return new DelegationTokens.Outcome("UNKNOWN_SERVER_ERROR", ERROR_TIMESTAMP);
        }
    }

    DescribeDelegationTokenResponse describe(RequestContext context, DescribeDelegationTokenRequest request) {
        DescribeDelegationTokenResponse response = new DescribeDelegationTokenResponse();
        response.tokens = new ArrayList<>();
        if (!allowTokenRequests(context)) {
            response.errorCode = Errors.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED.code();
            return response;
        }
        if (!tokens.enabled()) {
            response.errorCode = Errors.DELEGATION_TOKEN_AUTH_DISABLED.code();
            return response;
        }
        response.errorCode = Errors.NONE.code();
        // Kafka: an empty owner list asks for nothing; null asks for every token the caller may see.
        if (request.owners != null && request.owners.isEmpty()) return response;
        List<String> owners = null;
        if (request.owners != null) {
            owners = new ArrayList<>();
            for (DescribeDelegationTokenRequest.DescribeDelegationTokenOwner o : request.owners) {
                owners.add(principal(o.principalType, o.principalName));
            }
        }
        try {
            for (DelegationTokens.Token token : tokens.all()) {
                if (visible(context, owners, token)) response.tokens.add(described(token));
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "Cannot read delegation tokens", e);
            response.errorCode = Errors.UNKNOWN_SERVER_ERROR.code();
            response.tokens = new ArrayList<>();
        }
        return response;
    }

    /** Kafka's DelegationTokenManager.filterToken. */
    private boolean visible(RequestContext context, List<String> owners, DelegationTokens.Token token) {
        if (owners != null && owners.stream().noneMatch(token::ownerOrRenewer)) return false;
        if (token.ownerOrRenewer(context.principal())) return true;
        return authorization.allowed(context, AclOperation.DESCRIBE, ResourceType.DELEGATION_TOKEN, token.tokenId())
                || authorization.allowed(context, AclOperation.DESCRIBE_TOKENS, ResourceType.USER, token.owner());
    }

    private DescribedDelegationToken described(DelegationTokens.Token token) {
        DescribedDelegationToken d = new DescribedDelegationToken();
        d.principalType = type(token.owner());
        d.principalName = name(token.owner());
        d.tokenRequesterPrincipalType = type(token.requester());
        d.tokenRequesterPrincipalName = name(token.requester());
        d.issueTimestamp = token.issueTimestamp();
        d.expiryTimestamp = token.expiryTimestamp();
        d.maxTimestamp = token.maxTimestamp();
        d.tokenId = token.tokenId();
        d.hmac = tokens.hmac(token.tokenId());
        d.renewers = new ArrayList<>();
        for (String renewer : token.renewers()) {
            DescribedDelegationTokenRenewer r = new DescribedDelegationTokenRenewer();
            r.principalType = type(renewer);
            r.principalName = name(renewer);
            d.renewers.add(r);
        }
        return d;
    }
}
