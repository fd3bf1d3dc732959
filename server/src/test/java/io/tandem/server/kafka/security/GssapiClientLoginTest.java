package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Date;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosPrincipal;
import javax.security.auth.kerberos.KerberosTicket;
import org.junit.jupiter.api.Test;

/**
 * When the inter-broker Kerberos login is renewed: as Kafka's KerberosLogin, once 80% of the ticket-granting ticket's
 * life has passed (and always when the login holds none); a service ticket's times do not count.
 */
class GssapiClientLoginTest {
    private static final long HOUR_MS = 3_600_000;

    private static KerberosTicket ticket(String server, long startMs, long endMs) {
        return new KerberosTicket(new byte[] {1}, new KerberosPrincipal("kafka/localhost@EXAMPLE.COM"),
                new KerberosPrincipal(server), new byte[16], 17, new boolean[32], new Date(startMs),
                new Date(startMs), new Date(endMs), null, null);
    }

    @Test
    void shouldRenewTheLoginOnlyPastEightyPercentOfItsTicketGrantingTicketsLife() {
        long start = 1_000_000_000_000L;
        Subject login = new Subject();
        assertTrue(GssapiClientLogin.dueForRenewal(login, start), "no ticket-granting ticket: log in");
        login.getPrivateCredentials().add(ticket("kafka/other@EXAMPLE.COM", start - 10 * HOUR_MS, start - HOUR_MS));
        login.getPrivateCredentials().add(ticket("krbtgt/EXAMPLE.COM@EXAMPLE.COM", start, start + 10 * HOUR_MS));
        assertFalse(GssapiClientLogin.dueForRenewal(login, start + 5 * HOUR_MS), "half its life: keep it");
        assertFalse(GssapiClientLogin.dueForRenewal(login, start + 8 * HOUR_MS - 1), "just before 80%");
        assertTrue(GssapiClientLogin.dueForRenewal(login, start + 8 * HOUR_MS), "at 80%: renew");
        assertTrue(GssapiClientLogin.dueForRenewal(login, start + 11 * HOUR_MS), "expired: renew");
    }
}
