package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.DescribeUserScramCredentialsRequest;
import io.tandem.kafka.wire.message.DescribeUserScramCredentialsResponse;
import io.tandem.kafka.wire.message.DescribeUserScramCredentialsResponse.CredentialInfo;
import io.tandem.kafka.wire.message.DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.security.ScramCredential;
import io.tandem.server.kafka.security.ScramCredentialStore;
import io.tandem.server.kafka.security.ScramMechanism;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * DescribeUserScramCredentials as Kafka 3.9's ZkAdminManager answers it: every user with a credential (by name) when
 * none is named; else each named user once, an empty name or a user named twice refused, a user without credential
 * RESOURCE_NOT_FOUND. Only mechanisms and iterations are told, never salts or keys.
 */
final class DescribeUserScramCredentialsHandler implements ApiHandler<DescribeUserScramCredentialsRequest> {
    private final ScramCredentialStore store;

    DescribeUserScramCredentialsHandler(ScramCredentialStore store) {
        this.store = store;
    }

    @Override
    public void handle(RequestContext context, DescribeUserScramCredentialsRequest request, Responder responder) {
        DescribeUserScramCredentialsResponse response = new DescribeUserScramCredentialsResponse();
        response.results = new ArrayList<>();
        try {
            if (request.users == null || request.users.isEmpty()) {
                for (Map.Entry<String, Map<ScramMechanism, ScramCredential>> e : store.all().entrySet()) {
                    response.results.add(result(e.getKey(), e.getValue()));
                }
            } else {
                Map<String, Integer> counts = new HashMap<>();
                for (DescribeUserScramCredentialsRequest.UserName u : request.users) counts.merge(u.name, 1, Integer::sum);
                LinkedHashSet<String> distinct = new LinkedHashSet<>();
                for (DescribeUserScramCredentialsRequest.UserName u : request.users) distinct.add(u.name);
                for (String user : distinct) response.results.add(describe(user, counts.get(user) > 1));
            }
        } catch (Exception e) {
            response.errorCode = Errors.UNKNOWN_SERVER_ERROR.code();
            response.errorMessage = "Error processing describe user SCRAM credential configs request";
            response.results = new ArrayList<>();
        }
        responder.send(response);
    }

    private DescribeUserScramCredentialsResult describe(String user, boolean duplicated) {
        DescribeUserScramCredentialsResult result = new DescribeUserScramCredentialsResult();
        result.user = user;
        result.credentialInfos = new ArrayList<>();
        if (user.isEmpty()) {
            result.errorCode = Errors.RESOURCE_NOT_FOUND.code();
            result.errorMessage = "Username must not be empty";
            return result;
        }
        if (duplicated) {
            result.errorCode = Errors.DUPLICATE_RESOURCE.code();
            result.errorMessage = "Cannot describe SCRAM credentials for the same user twice in a single request: " + user;
            return result;
        }
        try {
            Map<ScramMechanism, ScramCredential> credentials = store.credentials(user);
            if (credentials.isEmpty()) {
                result.errorCode = Errors.RESOURCE_NOT_FOUND.code();
                result.errorMessage = "Attempt to describe a user credential that does not exist: " + user;
                return result;
            }
            return result(user, credentials);
        } catch (Exception e) {
            result.errorCode = Errors.UNKNOWN_SERVER_ERROR.code();
            result.errorMessage = Errors.UNKNOWN_SERVER_ERROR.message();
            return result;
        }
    }

    private static DescribeUserScramCredentialsResult result(String user, Map<ScramMechanism, ScramCredential> credentials) {
        DescribeUserScramCredentialsResult result = new DescribeUserScramCredentialsResult();
        result.user = user;
        List<CredentialInfo> infos = new ArrayList<>();
        for (Map.Entry<ScramMechanism, ScramCredential> e : credentials.entrySet()) {
            CredentialInfo info = new CredentialInfo();
            info.mechanism = e.getKey().type();
            info.iterations = e.getValue().iterations();
            infos.add(info);
        }
        result.credentialInfos = infos;
        return result;
    }
}
