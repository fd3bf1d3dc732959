package io.tandem.server.kerberos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosTicket;
import org.junit.jupiter.api.Test;

/**
 * The logins of a ZooKeeper client, one per session handle as Apache's client makes them: every connection of a
 * session gets the same login, a new session logs in once more (counted at the test KDC), the current session's login
 * is renewed before its ticket expires and the replaced one no longer is, and nothing is renewed once closed.
 */
class SessionLoginsTest {
    private static final long SECOND_MS = 1000;

    @Test
    void shouldLogInOncePerSessionAndRenewOnlyTheCurrentLogin() throws Exception {
        TestKdc kdc = TestKdc.shared();
        String principal = TestKdc.principal("session-logins");
        Map<String, String> options = Map.of("useKeyTab", "true", "storeKey", "true", "doNotPrompt", "true",
                "keyTab", kdc.keytab(principal).toString(), "principal", principal);
        // Renewed at half of a 4 s ticket's life, never sooner than a second after the last login.
        RenewalPolicy policy = new RenewalPolicy(0.5, 0.0, SECOND_MS);
        int before = kdc.logins(principal);
        try (AutoCloseable shortTickets = kdc.ticketLifetime(Duration.ofSeconds(4))) {
            SessionLogins logins = new SessionLogins("test client", options, policy);
            assertEquals(principal, logins.principal());
            Subject first = logins.get();
            assertSame(first, logins.get(), "a session's connections share its login");
            assertEquals(1, kdc.logins(principal) - before, "the start-up login serves the first session");

            KerberosTicket initial = RenewingLogin.ticketGrantingTicket(first);
            awaitLogins(kdc, principal, before + 2);
            // The KDC counts the renewal when it answers; the login stores the new ticket in the Subject just after.
            long stored = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!renewedSince(first, initial) && System.nanoTime() - stored < 0) Thread.sleep(20);
            assertTrue(renewedSince(first, initial), "the session's login was renewed in place");

            int beforeSecond = kdc.logins(principal);
            logins.newSession();
            // As Apache 3.9's client, whose new handle logs in as it starts its first connection (before the socket
            // connects, so even when that connection then fails): the login is made when the handle begins, not at
            // its first SASL exchange (this assertion took the count after newSession before).
            assertEquals(beforeSecond + 1, kdc.logins(principal), "a new session handle logs in at once");
            Subject second = logins.get();
            assertNotSame(first, second);
            assertSame(second, logins.get());
            assertEquals(beforeSecond + 1, kdc.logins(principal), "a new session logs in once");
            KerberosTicket replaced = RenewingLogin.ticketGrantingTicket(first);
            awaitLogins(kdc, principal, beforeSecond + 2);
            assertEquals(replaced, RenewingLogin.ticketGrantingTicket(first), "the replaced login is not renewed");

            logins.close();
            Thread.sleep(300); // a relogin that had started when the client closed ends
            int afterClose = kdc.logins(principal);
            Thread.sleep(3 * 2 * SECOND_MS); // three renewal periods
            assertEquals(afterClose, kdc.logins(principal), "no renewal once closed");
            assertThrows(IllegalArgumentException.class, logins::get);
        }
    }

    private static boolean renewedSince(Subject login, KerberosTicket initial) {
        KerberosTicket current = RenewingLogin.ticketGrantingTicket(login);
        return current != null && current.getEndTime().after(initial.getEndTime());
    }

    private static void awaitLogins(TestKdc kdc, String principal, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (kdc.logins(principal) < count) {
            assertTrue(System.nanoTime() - deadline < 0, "no renewal: " + kdc.logins(principal) + " logins");
            Thread.sleep(100);
        }
    }
}
