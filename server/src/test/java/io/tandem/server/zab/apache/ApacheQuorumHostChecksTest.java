package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigKeys.Kind;
import io.tandem.server.ConfigKeys.Verdict;
import io.tandem.server.tls.HandshakeTasks;
import io.tandem.server.tls.HostLookup;
import io.tandem.server.zab.QuorumCertificates;
import io.tandem.server.zab.QuorumTls;
import io.tandem.server.zookeeper.ZooKeeperConfigKeys;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host checks of Apache mode's quorum TLS as Apache 3.9.5's X509Util sets them up for QuorumX509Util:
 * {@code ssl.quorum.clientHostnameVerification} (default true) lets the acceptor skip the dialler's host,
 * {@code ssl.quorum.allowReverseDnsLookup} (default true for the quorum) lets the acceptor match a certificate by the
 * name of the dialler's address, {@code fips-mode} (default true) replaces ZKTrustManager by the JDK's checks (see
 * QuorumTls.HostChecks for where Tandem parts from Apache 3.9.5 there), and every blocking name lookup runs off the
 * event loops. Real election transports over loopback, certificates made at test time.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApacheQuorumHostChecksTest {
    private static final int WAIT_MS = 10_000;
    /** How long a refused peer is given to get a frame through anyway. */
    private static final int REFUSED_WAIT_MS = 2_000;
    private static final Map<String, String> NOT_FIPS = Map.of(QuorumTls.FIPS_MODE, "false");

    @TempDir
    static Path dir;
    private static QuorumCertificates certificates;
    /** A trusted certificate that names localhost only (no address). */
    private static Path localhost;

    private record Frame(long from, byte[] bytes) {
    }

    @BeforeAll
    static void certificates() throws Exception {
        certificates = QuorumCertificates.create(dir);
        localhost = QuorumCertificates.keyPair(dir.resolve("localhost.p12"), "CN=localhost", "SAN=DNS:localhost");
        QuorumCertificates.trustStore(certificates.trust, certificates.member, certificates.otherHost, localhost);
    }

    @Test
    void shouldTakeApachesDefaultsForTheQuorum() {
        QuorumTls.HostChecks defaults = tls(certificates.member, Map.of(), HostLookup.SYSTEM).hostChecks();
        assertEquals(new QuorumTls.HostChecks(true, true, true, true), defaults);
        // As X509Util.isClientHostnameVerificationEnabled: the acceptor's check needs the dialler's check on.
        QuorumTls.HostChecks noServers = tls(certificates.member, Map.of("ssl.quorum.hostnameVerification", "false",
                "ssl.quorum.clientHostnameVerification", "true"), HostLookup.SYSTEM).hostChecks();
        assertFalse(noServers.servers());
        assertFalse(noServers.clients());
        QuorumTls.HostChecks set = tls(certificates.member, Map.of("ssl.quorum.clientHostnameVerification", "false",
                "ssl.quorum.allowReverseDnsLookup", "false", QuorumTls.FIPS_MODE, "false"),
                HostLookup.SYSTEM).hostChecks();
        assertEquals(new QuorumTls.HostChecks(true, false, false, false), set);
    }

    @Test
    void shouldAcceptTheKeysAndRefuseValuesThatAreNotBooleans() {
        for (String key : List.of("ssl.quorum.clientHostnameVerification", "ssl.quorum.allowReverseDnsLookup",
                QuorumTls.FIPS_MODE)) {
            assertEquals(Verdict.IMPLEMENTED, ZooKeeperConfigKeys.verdict(key, "false", Map.of()), key);
            assertEquals(Verdict.IMPLEMENTED, ZooKeeperConfigKeys.verdict(key, "true", Map.of()), key);
            assertEquals(Kind.REFUSED, ZooKeeperConfigKeys.verdict(key, "maybe", Map.of()).kind(), key);
        }
        // The client port's reverse lookups: Apache's default (off) is what Tandem does; on is refused by name.
        assertEquals(Verdict.IMPLEMENTED, ZooKeeperConfigKeys.verdict("ssl.allowReverseDnsLookup", "false", Map.of()));
        Verdict reverse = ZooKeeperConfigKeys.verdict("ssl.allowReverseDnsLookup", "true", Map.of());
        assertEquals(Kind.REFUSED, reverse.kind());
        assertTrue(reverse.reason().contains("reverse DNS"), reverse.reason());
        // In zoo.cfg Apache reads this as zookeeper.zookeeper.fips-mode: it changes nothing, and the warning says so.
        Verdict prefixed = ZooKeeperConfigKeys.verdict(QuorumTls.FIPS_MODE_PROPERTY, "false", Map.of());
        assertEquals(Kind.IGNORED, prefixed.kind());
        assertTrue(prefixed.reason().contains("fips-mode"), prefixed.reason());
    }

    @Test
    void shouldLetATrustedDiallerForAnotherHostInWhenClientHostnameVerificationIsOff() throws Exception {
        // Member 2 (the higher sid) dials member 1 and keeps the connection; its certificate names other.example,
        // not 127.0.0.1 where it dials from. Member 2 still checks member 1's certificate, which names 127.0.0.1.
        for (Map<String, String> mode : List.of(Map.<String, String>of(), NOT_FIPS)) {
            Map<Long, ElectionTransport.Member> members = members("127.0.0.1");
            BlockingQueue<Frame> atOne = new LinkedBlockingQueue<>();
            try (ElectionTransport one = transport(1, members, certificates.member, mode, atOne);
                 ElectionTransport two = transport(2, members, certificates.otherHost, mode, frames())) {
                two.send(1, new byte[] {2});
                assertNull(atOne.poll(REFUSED_WAIT_MS, TimeUnit.MILLISECONDS),
                        "the dialler's host was not checked " + mode);
            }
            Map<String, String> off = with(mode, "ssl.quorum.clientHostnameVerification", "false");
            try (ElectionTransport one = transport(1, members, certificates.member, off, atOne);
                 ElectionTransport two = transport(2, members, certificates.otherHost, mode, frames())) {
                two.send(1, new byte[] {2});
                Frame frame = atOne.poll(WAIT_MS, TimeUnit.MILLISECONDS);
                assertNotNull(frame, "clientHostnameVerification=false still checked the dialler " + off);
                assertEquals(2, frame.from());
            }
        }
    }

    @Test
    void shouldMatchADiallersCertificateByReverseLookupOnlyWhenAllowedOutsideFipsMode() throws Exception {
        Assumptions.assumeTrue(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}).getHostName().equals("localhost"),
                "reverse DNS of 127.0.0.1 is not localhost here");
        Map<Long, ElectionTransport.Member> members = members("127.0.0.1");
        // Member 2 dials from 127.0.0.1 with a certificate for the name localhost: ZKTrustManager finds no address
        // in it, and only a reverse lookup of 127.0.0.1 (allowed by default on the quorum) finds the name.
        BlockingQueue<Frame> atOne = new LinkedBlockingQueue<>();
        try (ElectionTransport one = transport(1, members, certificates.member, NOT_FIPS, atOne);
             ElectionTransport two = transport(2, members, localhost, NOT_FIPS, frames())) {
            two.send(1, new byte[] {2});
            assertNotNull(atOne.poll(WAIT_MS, TimeUnit.MILLISECONDS), "the reverse lookup did not name the dialler");
        }
        Map<String, String> noReverse = with(NOT_FIPS, "ssl.quorum.allowReverseDnsLookup", "false");
        try (ElectionTransport one = transport(1, members, certificates.member, noReverse, atOne);
             ElectionTransport two = transport(2, members, localhost, NOT_FIPS, frames())) {
            two.send(1, new byte[] {2});
            assertNull(atOne.poll(REFUSED_WAIT_MS, TimeUnit.MILLISECONDS), "looked up without allowReverseDnsLookup");
        }
        // FIPS mode: the JDK checks the address the connection comes from, which the certificate does not name.
        try (ElectionTransport one = transport(1, members, certificates.member, Map.of(), atOne);
             ElectionTransport two = transport(2, members, localhost, Map.of(), frames())) {
            two.send(1, new byte[] {2});
            assertNull(atOne.poll(REFUSED_WAIT_MS, TimeUnit.MILLISECONDS), "FIPS mode looked the dialler up");
        }
    }

    @Test
    void shouldResolveServerHostsOffTheEventLoops() throws Exception {
        // Every lookup is slow and says where it ran: the dial's resolution of "localhost" and the trust managers'
        // host checks (ZKTrustManager's, outside FIPS mode) must all run on the TLS task threads.
        List<String> threads = new CopyOnWriteArrayList<>();
        HostLookup slow = host -> {
            threads.add(Thread.currentThread().getName() + " " + host);
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return InetAddress.getByName(host);
        };
        Map<Long, ElectionTransport.Member> members = members("localhost");
        BlockingQueue<Frame> atOne = new LinkedBlockingQueue<>();
        BlockingQueue<Frame> atTwo = new LinkedBlockingQueue<>();
        try (ElectionTransport one = transport(1, members, certificates.member, NOT_FIPS, slow, atOne);
             ElectionTransport two = transport(2, members, certificates.member, NOT_FIPS, slow, atTwo)) {
            one.send(2, new byte[] {1}); // member 1's dial only asks member 2 to dial back
            Frame back = atTwo.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(back, "member 2 got no frame; lookups: " + threads);
            two.send(1, new byte[] {2});
            assertNotNull(atOne.poll(WAIT_MS, TimeUnit.MILLISECONDS), "member 1 got no frame");
        }
        assertTrue(threads.stream().anyMatch(t -> t.endsWith(" localhost")), "nothing resolved localhost: " + threads);
        for (String thread : threads) {
            assertTrue(thread.startsWith(HandshakeTasks.THREAD_NAME), "a lookup ran on " + thread + ": " + threads);
        }
    }

    private static Map<String, String> with(Map<String, String> settings, String key, String value) {
        Map<String, String> more = new HashMap<>(settings);
        more.put(key, value);
        return more;
    }

    private static Map<Long, ElectionTransport.Member> members(String host) throws IOException {
        return Map.of(1L, new ElectionTransport.Member(1, host, ApacheQuorumProcess.freePort()),
                2L, new ElectionTransport.Member(2, host, ApacheQuorumProcess.freePort()));
    }

    private static BlockingQueue<Frame> frames() {
        return new LinkedBlockingQueue<>();
    }

    private static QuorumTls tls(Path keyStore, Map<String, String> more, HostLookup lookup) {
        Map<String, String> settings = new HashMap<>(certificates.settings(keyStore));
        settings.putAll(more);
        return QuorumTls.from(settings, lookup);
    }

    private static ElectionTransport transport(long id, Map<Long, ElectionTransport.Member> members, Path keyStore,
                                               Map<String, String> more, BlockingQueue<Frame> into)
            throws InterruptedException {
        return transport(id, members, keyStore, more, HostLookup.SYSTEM, into);
    }

    private static ElectionTransport transport(long id, Map<Long, ElectionTransport.Member> members, Path keyStore,
                                               Map<String, String> more, HostLookup lookup,
                                               BlockingQueue<Frame> into) throws InterruptedException {
        ElectionTransport transport = new ElectionTransport(id, members,
                (from, frame) -> into.add(new Frame(from, frame)));
        transport.useSockets(QuorumSockets.tls(tls(keyStore, more, lookup)));
        return transport.start();
    }
}
