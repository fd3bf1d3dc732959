package io.tandem.server.kerberos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.kerberos.KerberosTicket;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslServer;
import org.junit.jupiter.api.Test;

/**
 * Kerberos logins renewed as Kafka's KerberosLogin and ZooKeeper's Login renew them: when (the refresh time of their
 * loops), and that an initiator whose first ticket-granting ticket expired still authenticates a new exchange against
 * the test KDC, with tickets cut to a few seconds.
 */
class RenewingLoginTest {
    private static final long SECOND_MS = 1000;

    @Test
    void shouldRenewInTheWindowOfTheTicketsLifeButNeverSoonerThanTheFloor() {
        RenewalPolicy policy = new RenewalPolicy(0.8, 0.05, 60 * SECOND_MS);
        long start = 1_000_000_000_000L;
        long end = start + 10_000 * SECOND_MS;
        // 80% of the life, plus up to 5% of it as jitter.
        assertEquals(start + 8_000 * SECOND_MS, policy.nextReloginMs(start, end, start, start, 0.0));
        assertEquals(start + 8_250 * SECOND_MS, policy.nextReloginMs(start, end, start, start, 0.5));
        // Not sooner than the floor from now, while that leaves the ticket valid.
        long late = start + 7_990 * SECOND_MS;
        assertEquals(late + 60 * SECOND_MS, policy.nextReloginMs(start, end, late, start, 0.0));
        // Now, when waiting for the floor would let the ticket expire...
        long nearEnd = end - 30 * SECOND_MS;
        assertEquals(nearEnd, policy.nextReloginMs(start, end, nearEnd, start, 0.0));
        // ...but never sooner than the floor after the last login (Apache would retry at once, and spin).
        assertEquals(nearEnd - 10 * SECOND_MS + 60 * SECOND_MS,
                policy.nextReloginMs(start, end, nearEnd, nearEnd - 10 * SECOND_MS, 0.0));
        // A window past the end of the life: now (Apache's getRefreshTime).
        RenewalPolicy wide = new RenewalPolicy(1.5, 0, 0);
        assertEquals(start + 5, wide.nextReloginMs(start, end, start + 5, start, 0.0));
    }

    @Test
    void shouldAuthenticateANewExchangeAfterTheFirstTicketExpired() throws Exception {
        TestKdc kdc = TestKdc.shared();
        String service = TestKdc.servicePrincipal("renewed");
        String client = TestKdc.principal("renewing-client");
        Path serviceKeytab = kdc.keytab(service);
        Path clientKeytab = kdc.keytab(client);
        Subject acceptor = KerberosLogin.login("acceptor", options(serviceKeytab, service));
        Subject initiator;
        KerberosTicket first;
        try (AutoCloseable shortTickets = kdc.ticketLifetime(Duration.ofSeconds(5))) {
            initiator = RenewingLogin.start("initiator", options(clientKeytab, client),
                    new RenewalPolicy(0.8, 0.05, SECOND_MS));
            first = RenewingLogin.ticketGrantingTicket(initiator);
            assertNotNull(first);
            assertTrue(first.getEndTime().getTime() - first.getStartTime().getTime() <= 5 * SECOND_MS,
                    "the KDC issued a short ticket: " + first.getEndTime());
        }
        long firstEnd = first.getEndTime().getTime();
        while (System.currentTimeMillis() <= firstEnd + 500) Thread.sleep(100);

        exchange(initiator, acceptor, client);
        KerberosTicket renewed = RenewingLogin.ticketGrantingTicket(initiator);
        assertTrue(renewed.getEndTime().getTime() > firstEnd, "the subject holds a renewed ticket");
    }

    private static Map<String, String> options(Path keytab, String principal) {
        return Map.of("useKeyTab", "true", "storeKey", "true", "doNotPrompt", "true", "keyTab", keytab.toString(),
                "principal", principal);
    }

    /** One GSSAPI exchange, the client's steps inside its login (the first asks the KDC for a service ticket). */
    @SuppressWarnings("removal")
    private static void exchange(Subject initiator, Subject acceptor, String client) throws Exception {
        SaslServer server = GssapiServers.create(acceptor, null, callbacks -> {
            for (Callback callback : callbacks) {
                if (!(callback instanceof AuthorizeCallback authorize)) {
                    throw new UnsupportedCallbackException(callback);
                }
                authorize.setAuthorized(true);
                authorize.setAuthorizedID(authorize.getAuthenticationID());
            }
        });
        SaslClient saslClient = Subject.doAs(initiator, (PrivilegedExceptionAction<SaslClient>) () ->
                Sasl.createSaslClient(new String[] {"GSSAPI"}, null, "renewed", TestKdc.HOST, null, callbacks -> { }));
        byte[] token = Subject.doAs(initiator, (PrivilegedExceptionAction<byte[]>) () ->
                saslClient.hasInitialResponse() ? saslClient.evaluateChallenge(new byte[0]) : new byte[0]);
        while (!server.isComplete()) {
            byte[] challenge = server.evaluateResponse(token);
            if (server.isComplete()) break;
            token = Subject.doAs(initiator, (PrivilegedExceptionAction<byte[]>) () ->
                    saslClient.evaluateChallenge(challenge));
        }
        assertEquals(client, server.getAuthorizationID());
    }
}
