package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.AlterUserScramCredentialsRequest;
import io.tandem.kafka.wire.message.AlterUserScramCredentialsRequest.ScramCredentialDeletion;
import io.tandem.kafka.wire.message.AlterUserScramCredentialsRequest.ScramCredentialUpsertion;
import io.tandem.kafka.wire.message.AlterUserScramCredentialsResponse;
import io.tandem.kafka.wire.message.AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.security.ScramCredential;
import io.tandem.server.kafka.security.ScramCredentialStore;
import io.tandem.server.kafka.security.ScramMechanism;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * AlterUserScramCredentials as Kafka 3.9 in ZooKeeper mode: answered by the active controller only (NOT_CONTROLLER
 * elsewhere, for every user named), then ZkAdminManager's checks in its order: an empty name, an unknown mechanism,
 * iterations outside 4096..16384; a user/mechanism pair named twice; deleting a credential that does not exist. A
 * user with any such problem is left unchanged; each other user's deletions then upsertions are written in one
 * change of its config znode. The server keeps StoredKey and ServerKey derived from the salted password, never it.
 */
final class AlterUserScramCredentialsHandler implements ApiHandler<AlterUserScramCredentialsRequest> {
    private final ScramCredentialStore store;
    private final BooleanSupplier activeController;

    AlterUserScramCredentialsHandler(ScramCredentialStore store, BooleanSupplier activeController) {
        this.store = store;
        this.activeController = activeController;
    }

    @Override
    public void handle(RequestContext context, AlterUserScramCredentialsRequest request, Responder responder) {
        AlterUserScramCredentialsResponse response = new AlterUserScramCredentialsResponse();
        response.results = new ArrayList<>();
        if (!activeController.getAsBoolean()) {
            Set<String> users = new TreeSet<>();
            for (ScramCredentialDeletion d : request.deletions) users.add(d.name);
            for (ScramCredentialUpsertion u : request.upsertions) users.add(u.name);
            for (String user : users) response.results.add(result(user, Errors.NOT_CONTROLLER, Errors.NOT_CONTROLLER.message()));
            responder.send(response);
            return;
        }
        synchronized (store) {
            alter(request, response.results);
        }
        responder.send(response);
    }

    private void alter(AlterUserScramCredentialsRequest request, List<AlterUserScramCredentialsResult> results) {
        Map<String, String> illegal = new LinkedHashMap<>();
        for (ScramCredentialDeletion d : request.deletions) {
            if (d.name.isEmpty()) illegal.put(d.name, "Username must not be empty");
            else if (ScramMechanism.forType(d.mechanism) == null) illegal.put(d.name, "Unknown SCRAM mechanism");
        }
        for (ScramCredentialUpsertion u : request.upsertions) {
            if (u.name.isEmpty()) illegal.put(u.name, "Username must not be empty");
            else if (ScramMechanism.forType(u.mechanism) == null) illegal.put(u.name, "Unknown SCRAM mechanism");
            else if (u.iterations > ScramMechanism.ITERATIONS_MAX) illegal.put(u.name, "Too many iterations");
            else if (u.iterations < ScramMechanism.ITERATIONS_MIN) illegal.put(u.name, "Too few iterations");
        }
        illegal.forEach((user, message) -> results.add(result(user, message.equals("Unknown SCRAM mechanism")
                ? Errors.UNSUPPORTED_SASL_MECHANISM : Errors.UNACCEPTABLE_CREDENTIAL, message)));

        Map<String, Integer> pairs = new HashMap<>();
        LinkedHashSet<String> candidates = new LinkedHashSet<>();
        for (ScramCredentialUpsertion u : request.upsertions) {
            if (illegal.containsKey(u.name)) continue;
            pairs.merge(u.name + "\u0000" + u.mechanism, 1, Integer::sum);
            candidates.add(u.name);
        }
        for (ScramCredentialDeletion d : request.deletions) {
            if (illegal.containsKey(d.name)) continue;
            pairs.merge(d.name + "\u0000" + d.mechanism, 1, Integer::sum);
            candidates.add(d.name);
        }
        Set<String> duplicated = new LinkedHashSet<>();
        pairs.forEach((pair, count) -> {
            if (count > 1) duplicated.add(pair.substring(0, pair.indexOf('\u0000')));
        });
        for (String user : duplicated) {
            results.add(result(user, Errors.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request"));
        }
        candidates.removeAll(duplicated);

        for (String user : candidates) {
            try {
                Map<ScramMechanism, ScramCredential> existing = store.credentials(user);
                Map<ScramMechanism, ScramCredential> changes = new LinkedHashMap<>();
                boolean missing = false;
                for (ScramCredentialDeletion d : request.deletions) {
                    if (!d.name.equals(user)) continue;
                    ScramMechanism m = ScramMechanism.forType(d.mechanism);
                    if (!existing.containsKey(m)) missing = true;
                    changes.put(m, null);
                }
                if (missing) {
                    results.add(result(user, Errors.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"));
                    continue;
                }
                for (ScramCredentialUpsertion u : request.upsertions) {
                    if (!u.name.equals(user)) continue;
                    ScramMechanism m = ScramMechanism.forType(u.mechanism);
                    changes.put(m, m.credential(u.salt, u.saltedPassword, u.iterations));
                }
                store.alter(user, changes);
                results.add(result(user, Errors.NONE, null));
            } catch (Exception e) {
                results.add(result(user, Errors.UNKNOWN_SERVER_ERROR, Errors.UNKNOWN_SERVER_ERROR.message()));
            }
        }
    }

    private static AlterUserScramCredentialsResult result(String user, Errors error, String message) {
        AlterUserScramCredentialsResult result = new AlterUserScramCredentialsResult();
        result.user = user;
        result.errorCode = error.code();
        // Kafka leaves a success's message at its default, the empty string.
        if (message != null) result.errorMessage = message;
        return result;
    }
}
