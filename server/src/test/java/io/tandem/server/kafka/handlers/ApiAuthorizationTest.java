package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.CLUSTER_AUTHORIZATION_FAILED;
import static org.junit.jupiter.api.Assertions.*;

/** The rule table's refusals can always be built: a rule whose API has no place for the error would fail requests. */
class ApiAuthorizationTest {
    @Test
    void shouldBuildARefusalCarryingTheErrorForEveryApiCheckedBeforeItsHandler() {
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (ApiKey key : ApiKey.values()) {
            if (!ApiAuthorization.hasRule(key) || ApiAuthorization.rule(key).checks().isEmpty()) continue;
            checked++;
            try {
                ApiMessage refusal = ApiAuthorization.refusal(key, key.newRequest(), CLUSTER_AUTHORIZATION_FAILED);
                assertEquals(key, refusal.apiKey());
            } catch (RuntimeException e) {
                broken.add(key.apiName() + ": " + e.getMessage());
            }
        }
        assertEquals(List.of(), broken);
        assertTrue(checked >= 20, "checked " + checked);
    }

    @Test
    void shouldRequireClusterActionForAnApiWithoutARule() {
        ApiAuthorization.Rule rule = ApiAuthorization.rule(ApiKey.ALTER_REPLICA_LOG_DIRS);
        assertFalse(ApiAuthorization.hasRule(ApiKey.ALTER_REPLICA_LOG_DIRS));
        assertEquals(io.tandem.kafka.wire.acl.AclOperation.CLUSTER_ACTION, rule.checks().get(0).operation());
    }
}
