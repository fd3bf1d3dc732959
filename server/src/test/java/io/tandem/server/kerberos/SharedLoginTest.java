package io.tandem.server.kerberos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.security.auth.kerberos.KerberosTicket;
import org.junit.jupiter.api.Test;

/**
 * Kerberos logins shared as Kafka's LoginManager shares them: two users of the same options and renewal hold one
 * subject got by one AS exchange (counted at the test KDC), closing one keeps the login renewed for the other, and the
 * last close stops the renewal, so the next user logs in again.
 */
class SharedLoginTest {
    private static final long SECOND_MS = 1000;

    private static Map<String, String> options(Path keytab, String principal) {
        return Map.of("useKeyTab", "true", "storeKey", "true", "doNotPrompt", "true", "keyTab", keytab.toString(),
                "principal", principal);
    }

    @Test
    void shouldLogInOnceForTwoUsersOfTheSameOptionsAndAgainAfterTheLastLetItGo() throws Exception {
        TestKdc kdc = TestKdc.shared();
        String principal = TestKdc.servicePrincipal("shared-once");
        Map<String, String> options = options(kdc.keytab(principal), principal);
        SharedLogin listener = SharedLogin.acquire("listener", options, RenewalPolicy.KAFKA_DEFAULT);
        SharedLogin interBroker = SharedLogin.acquire("between brokers", options, RenewalPolicy.KAFKA_DEFAULT);
        assertSame(listener.subject(), interBroker.subject());
        assertEquals(1, kdc.logins(principal), "one AS exchange for two users");
        assertEquals(2, SharedLogin.users(options, RenewalPolicy.KAFKA_DEFAULT));

        // Another renewal is another login (Kafka keys its LoginManagers by the sasl.* settings too).
        RenewalPolicy other = new RenewalPolicy(0.9, 0.0, 60 * SECOND_MS);
        try (SharedLogin renewedOtherwise = SharedLogin.acquire("other", options, other)) {
            assertNotSame(listener.subject(), renewedOtherwise.subject());
            assertEquals(2, kdc.logins(principal));
        }

        listener.close();
        listener.close(); // a second close of the same handle lets nothing else go
        assertEquals(1, SharedLogin.users(options, RenewalPolicy.KAFKA_DEFAULT));
        assertNotNull(RenewingLogin.ticketGrantingTicket(interBroker.subject()), "the other user keeps its ticket");
        interBroker.close();
        assertEquals(0, SharedLogin.users(options, RenewalPolicy.KAFKA_DEFAULT));

        try (SharedLogin again = SharedLogin.acquire("listener", options, RenewalPolicy.KAFKA_DEFAULT)) {
            assertNotSame(interBroker.subject(), again.subject());
            assertEquals(3, kdc.logins(principal), "a login nobody holds is made again");
        }
    }

    @Test
    void shouldKeepRenewingForTheLastUserAndStopOnceItClosed() throws Exception {
        TestKdc kdc = TestKdc.shared();
        String principal = TestKdc.principal("shared-renewed");
        Map<String, String> options = options(kdc.keytab(principal), principal);
        // Renewed at half of a 4 s ticket's life, never sooner than a second after the last login.
        RenewalPolicy policy = new RenewalPolicy(0.5, 0.0, SECOND_MS);
        SharedLogin first;
        SharedLogin second;
        KerberosTicket initial;
        try (AutoCloseable shortTickets = kdc.ticketLifetime(Duration.ofSeconds(4))) {
            first = SharedLogin.acquire("first", options, policy);
            second = SharedLogin.acquire("second", options, policy);
            initial = RenewingLogin.ticketGrantingTicket(second.subject());
            first.close();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (kdc.logins(principal) < 3) {
                assertTrue(System.nanoTime() - deadline < 0, "the remaining user's login was not renewed: "
                        + kdc.logins(principal) + " logins");
                Thread.sleep(100);
            }
            KerberosTicket renewed = RenewingLogin.ticketGrantingTicket(second.subject());
            assertTrue(renewed.getEndTime().after(initial.getEndTime()), "the subject holds the renewed ticket");

            second.close();
            Thread.sleep(300); // a relogin that had started when the last user closed ends
            int afterLastClose = kdc.logins(principal);
            // Three more renewal periods: a login still renewed would have asked the KDC again.
            Thread.sleep(3 * 2 * SECOND_MS);
            assertEquals(afterLastClose, kdc.logins(principal), "no renewal once the last user closed");
        }
    }
}
