package io.tandem.server.kafka.quota;

import io.tandem.kafka.wire.Errors;
import io.tandem.server.kafka.ApiException;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * KIP-599's token bucket and KIP-612's connection rates on a controlled clock, with Kafka's arithmetic: a bucket of
 * samples x window x bound permits that starts full, a strict quota that admits a mutation while the bucket is not
 * in debt (so it may go negative) and refuses the next, a permissive one that admits everything and throttles after,
 * a throttle of -tokens / bound seconds less the time since; IP rates that take a refused connection back.
 */
class ControllerMutationQuotaManagerTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final ControllerMutationQuotaManager manager =
            new ControllerMutationQuotaManager(new QuotaWindow(11, 1000), now::get);

    private static final short V6 = 6;
    private static final short V5 = 5;

    @Test
    void shouldAdmitABurstThenRefuseUntilTheDebtIsRefilled() {
        manager.update(Map.of(new QuotaEntity(null, "app"), 2.0));
        // Burst: 11 windows of 1 s at 2 permits/s = 22 permits; 30 are admitted at once, leaving -8.
        ControllerMutationQuota quota = manager.newQuotaFor("ANONYMOUS", "app", V6, V6);
        quota.record(30);
        assertEquals(0, quota.throttleTimeMs());
        ApiException refused = assertThrows(ApiException.class, () -> quota.record(1));
        assertEquals(Errors.THROTTLING_QUOTA_EXCEEDED.code(), refused.error());
        assertEquals("The throttling quota has been exceeded.", refused.getMessage());
        // -8 tokens at 2 per second: 4 s; the answer deducts the time since it was measured.
        assertEquals(4000, quota.throttleTimeMs());
        now.addAndGet(1500);
        assertEquals(2500, quota.throttleTimeMs());
        // 1.5 s refilled 3 permits: -5, still in debt for 2.5 s.
        ControllerMutationQuota next = manager.newQuotaFor("ANONYMOUS", "app", V6, V6);
        assertThrows(ApiException.class, () -> next.record(1));
        assertEquals(2500, next.throttleTimeMs());
        // Back at zero the next mutation is admitted whatever its size.
        now.addAndGet(2500);
        ControllerMutationQuota after = manager.newQuotaFor("ANONYMOUS", "app", V6, V6);
        after.record(100);
        assertEquals(0, after.throttleTimeMs());
    }

    @Test
    void shouldAdmitEveryMutationOfAnOldVersionAndThrottleAfterwards() {
        manager.update(Map.of(new QuotaEntity(null, QuotaEntity.DEFAULT), 1.0));
        ControllerMutationQuota quota = manager.newQuotaFor("ANONYMOUS", "old", V5, V6);
        quota.record(10);
        assertEquals(0, quota.throttleTimeMs());
        // 11 - 10 - 3 = -2 permits: admitted all the same, 2 s of throttle.
        quota.record(3);
        assertEquals(2000, quota.throttleTimeMs());
        quota.record(1);
        assertEquals(3000, quota.throttleTimeMs());
    }

    @Test
    void shouldNotMeasureWithoutAnyQuotaNorClientsUnderNone() {
        assertSame(ControllerMutationQuota.UNBOUNDED, manager.newQuotaFor("ANONYMOUS", "app", V6, V6));
        manager.update(Map.of(new QuotaEntity("alice", null), 1.0));
        ControllerMutationQuota other = manager.newQuotaFor("bob", "app", V6, V6);
        other.record(1e9);
        other.record(1);
        assertEquals(0, other.throttleTimeMs());
        ControllerMutationQuota alice = manager.newQuotaFor("alice", "app", V6, V6);
        alice.record(100);
        assertThrows(ApiException.class, () -> alice.record(1));
    }

    @Test
    void shouldLetAQuotaChangeApplyToTheNextRequest() {
        manager.update(Map.of(new QuotaEntity(null, "app"), 1.0));
        manager.newQuotaFor("ANONYMOUS", "app", V6, V6).record(21);
        ControllerMutationQuota limited = manager.newQuotaFor("ANONYMOUS", "app", V6, V6);
        assertThrows(ApiException.class, () -> limited.record(1));
        assertEquals(10_000, limited.throttleTimeMs());
        // A larger rate refills faster: -10 permits at 10 per second is 1 s.
        manager.update(Map.of(new QuotaEntity(null, "app"), 10.0));
        ControllerMutationQuota raised = manager.newQuotaFor("ANONYMOUS", "app", V6, V6);
        assertThrows(ApiException.class, () -> raised.record(1));
        assertEquals(1000, raised.throttleTimeMs());
    }

    @Test
    void shouldCloseConnectionsOverTheirIpRateAndTakeThemBack() throws Exception {
        ConnectionRateQuotas rates = new ConnectionRateQuotas(new QuotaWindow(2, 1000), 2, now::get);
        InetAddress local = InetAddress.getByName("127.0.0.1");
        InetAddress other = InetAddress.getByName("127.0.0.2");
        rates.update(Map.of(local, 1), ConnectionRateQuotas.UNLIMITED);
        // A young rate counts one whole window: one connection per second is within the bound, two are not.
        assertEquals(0, rates.ipThrottleMs(local, "PLAINTEXT", false));
        assertEquals(1000, rates.ipThrottleMs(local, "PLAINTEXT", false));
        assertEquals(1000, rates.ipThrottleMs(local, "PLAINTEXT", false), "a refused connection is taken back");
        assertEquals(0, rates.ipThrottleMs(other, "PLAINTEXT", false), "other addresses have no quota");
        assertEquals(2, rates.throttledIpConnections());
        // The default entity applies to every address without its own.
        rates.update(Map.of(), 1);
        assertEquals(0, rates.ipThrottleMs(other, "PLAINTEXT", false));
        assertTrue(rates.ipThrottleMs(other, "PLAINTEXT", false) > 0);
    }

    @Test
    void shouldDelayAcceptsOverTheBrokerRateButNotOnAProtectedListener() {
        ConnectionRateQuotas rates = new ConnectionRateQuotas(new QuotaWindow(2, 1000), 2, now::get);
        assertEquals(0, rates.acceptThrottleMs("PLAINTEXT", false));
        assertEquals(0, rates.acceptThrottleMs("PLAINTEXT", false));
        // 3 connections over 1 s against 2 per second: (3 - 2) / 2 x 1 s.
        assertEquals(500, rates.acceptThrottleMs("PLAINTEXT", false));
        assertEquals(0, rates.acceptThrottleMs("INTERNAL", true));
        // Never longer than one window.
        for (int i = 0; i < 10; i++) rates.acceptThrottleMs("PLAINTEXT", false);
        assertEquals(1000, rates.acceptThrottleMs("PLAINTEXT", false));
        assertThrows(IllegalArgumentException.class,
                () -> new ConnectionRateQuotas(QuotaWindow.DEFAULT, -1, now::get));
    }

    /**
     * Kafka's ListenerConnectionQuota reads the listener's settings over the broker's: a listener without its own rate
     * has the broker's, so the protected listener, which the broker-wide sensor does not count, is bounded by it too,
     * and follows it when it changes.
     */
    @Test
    void shouldBoundAProtectedListenerWithoutItsOwnRateByTheBrokersRate() {
        ConnectionRateQuotas rates = new ConnectionRateQuotas(new QuotaWindow(2, 1000), 2, now::get);
        assertEquals(0, rates.acceptThrottleMs("INTERNAL", true));
        assertEquals(0, rates.acceptThrottleMs("INTERNAL", true));
        assertEquals(500, rates.acceptThrottleMs("INTERNAL", true), "(3 - 2) / 2 x 1 s on its own sensor");
        assertEquals(0.0, rates.brokerAcceptRate(), "the broker-wide sensor does not count it");
        rates.updateBrokerRate(ConnectionRateQuotas.UNLIMITED);
        assertEquals(0, rates.acceptThrottleMs("INTERNAL", true), "no broker rate, no bound");
    }

    @Test
    void shouldDelayAcceptsOverTheListenersOwnRateEvenOnAProtectedListener() throws Exception {
        // The broker allows 10 per second; EXTERNAL 2 of its own (its key spells the name in lower case), INTERNAL
        // (protected) 1.
        ConnectionRateQuotas rates = new ConnectionRateQuotas(new QuotaWindow(2, 1000), 10,
                ConnectionRateQuotas.listenerRates(Map.of("listener.name.external.max.connection.creation.rate", "2",
                        "listener.name.internal.max.connection.creation.rate", "1", "max.connections", "5")), now::get);
        assertEquals(0, rates.acceptThrottleMs("EXTERNAL", false));
        assertEquals(0, rates.acceptThrottleMs("EXTERNAL", false));
        assertEquals(500, rates.acceptThrottleMs("EXTERNAL", false), "(3 - 2) / 2 x 1 s on the listener's rate");
        assertEquals(0, rates.acceptThrottleMs("PLAINTEXT", false), "another listener only has the broker's rate");
        assertEquals(0, rates.acceptThrottleMs("INTERNAL", true));
        assertEquals(1000, rates.acceptThrottleMs("INTERNAL", true), "a protected listener keeps its own rate");
        // The broker's rate counts the four unprotected connections: 4 per second.
        assertEquals(4.0, rates.brokerAcceptRate(), 0.001);
        // An IP refusal takes the connection back from its listener too, and is averaged apart.
        rates.update(Map.of(InetAddress.getByName("127.0.0.1"), 1), ConnectionRateQuotas.UNLIMITED);
        assertEquals(0, rates.ipThrottleMs(InetAddress.getByName("127.0.0.1"), "PLAINTEXT", false));
        rates.acceptThrottleMs("PLAINTEXT", false);
        assertEquals(1000, rates.ipThrottleMs(InetAddress.getByName("127.0.0.1"), "PLAINTEXT", false));
        Map<String, ConnectionRateQuotas.ListenerFigures> figures = new java.util.HashMap<>();
        rates.listenerFigures().forEach(f -> figures.put(f.listener(), f));
        assertEquals(3.0, figures.get("EXTERNAL").acceptRate(), 0.001);
        assertEquals(500.0, figures.get("EXTERNAL").throttleTimeMs(), 0.001);
        assertTrue(Double.isNaN(figures.get("EXTERNAL").ipThrottleTimeMs()), "no IP throttle on EXTERNAL");
        assertEquals(1.0, figures.get("PLAINTEXT").acceptRate(), 0.001, "the refused connection is taken back");
        assertEquals(1000.0, figures.get("PLAINTEXT").ipThrottleTimeMs(), 0.001);
        assertTrue(Double.isNaN(figures.get("PLAINTEXT").throttleTimeMs()));
        assertEquals(1000.0, figures.get("INTERNAL").throttleTimeMs(), 0.001);
        assertEquals(List.of(new ConnectionRateQuotas.IpFigures(InetAddress.getByName("127.0.0.1"), 1.0)),
                rates.ipFigures(10));
        assertThrows(IllegalArgumentException.class, () -> new ConnectionRateQuotas(QuotaWindow.DEFAULT, 10,
                Map.of("EXTERNAL", -1), now::get));
    }
}
