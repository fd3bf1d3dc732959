package io.tandem.server.zab;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.tandem.server.ConfigKeys.Verdict;
import io.tandem.server.kafka.security.SslContexts;
import io.tandem.server.tls.HostLookup;
import io.tandem.server.tls.PeerAddressTrustManager;
import io.tandem.server.tls.StoreFileWatcher;
import io.tandem.server.tls.StoreReload;
import io.tandem.server.tls.ZooKeeperTlsDefaults;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.Socket;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Mutual TLS on the quorum port, as Apache's {@code sslQuorum=true} with its {@code ssl.quorum.*} keys: every
 * connection runs a TLS handshake in which both members show a certificate from {@code ssl.quorum.keyStore.*} that the
 * other's {@code ssl.quorum.trustStore.*} trusts (client authentication is always required), before any quorum frame.
 * With {@code ssl.quorum.hostnameVerification} (Apache's default, true) the dialler checks that the acceptor's
 * certificate names the host of its {@code server.N} line, and the acceptor checks the same of the dialler's
 * certificate against the line of the id its hello claims, so a certificate of one member cannot speak for another's
 * host. Key and trust stores are loaded at start-up by the Kafka listeners' loader ({@link SslContexts}).
 *
 * <p>With {@code sslQuorumReloadCertFiles=true} they are loaded again whenever their files change, as Apache's
 * QuorumPeer then has QuorumX509Util watch them and rebuild its default SSL context ({@code enableCertFileReloading}):
 * every quorum connection made afterwards, dialled or accepted, handshakes with the new stores, while connections
 * already open keep their session. A store that cannot be used keeps the contexts in force (Apache's "keeping
 * previous default SSL context"). Tandem's watcher also sees a store replaced through links (a Kubernetes secret,
 * {@link StoreFileWatcher}), which Apache's does not.
 */
public final class QuorumTls {
    private static final Logger LOG = System.getLogger(QuorumTls.class.getName());
    public static final String SSL_QUORUM = "sslQuorum";
    /** Apache's key: reload the quorum's key and trust stores when their files change. */
    public static final String RELOAD_CERT_FILES = "sslQuorumReloadCertFiles";
    private static final String PREFIX = "ssl.quorum.";
    /** The ssl.quorum.* keys honoured, as Apache spells them. */
    private static final Set<String> KEYS = Set.of("ssl.quorum.keyStore.location", "ssl.quorum.keyStore.password",
            "ssl.quorum.keyStore.type", "ssl.quorum.trustStore.location", "ssl.quorum.trustStore.password",
            "ssl.quorum.trustStore.type", "ssl.quorum.enabledProtocols", "ssl.quorum.ciphersuites",
            "ssl.quorum.hostnameVerification", "ssl.quorum.clientAuth", "ssl.quorum.protocol",
            "ssl.quorum.clientHostnameVerification", "ssl.quorum.allowReverseDnsLookup");
    /**
     * Apache's zoo.cfg key for FIPS mode: QuorumPeerConfig makes it the system property {@link #FIPS_MODE_PROPERTY},
     * which X509Util reads (default true since 3.9.0).
     */
    public static final String FIPS_MODE = "fips-mode";
    public static final String FIPS_MODE_PROPERTY = "zookeeper.fips-mode";

    /** The stores' settings under the Kafka loader's names, read again on every reload. */
    private final Function<String, String> stores;
    /** Both sides' contexts, replaced together so a connection never mixes old and new stores. */
    private volatile Contexts contexts;
    private final List<String> protocols;
    private final List<String> ciphers;
    private final boolean hostnameVerification;
    private final HostChecks checks;
    private final HostLookup lookup;
    /** Accepted peers' names looked up in reverse before their handshakes ({@link #learnName}), the latest few. */
    private final Map<String, String> knownNames = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                    return size() > KNOWN_NAMES_MAX;
                }
            });
    /** Addresses whose reverse-looked-up names are kept: a handshake needs its own for a few milliseconds only. */
    static final int KNOWN_NAMES_MAX = 256;
    private final boolean reloadCertFiles;

    /**
     * How Apache mode checks a peer's host (X509Util 3.9.5 for QuorumX509Util). {@code servers}: the dialler checks
     * the acceptor's certificate (ssl.quorum.hostnameVerification, default true); {@code clients}: the acceptor checks
     * the dialler's (ssl.quorum.clientHostnameVerification, default true for the quorum, and only with the first);
     * {@code reverseLookup}: ssl.quorum.allowReverseDnsLookup (default true for the quorum). Outside FIPS mode the
     * checks are ZKTrustManager's ({@link PeerAddressTrustManager}: the address, then the name).
     *
     * <p>In FIPS mode (zookeeper.fips-mode, Apache's default) Apache takes the JDK's own trust manager instead, and
     * its quorum sockets set no endpoint identification, so Apache 3.9.5 checks no host at all there: any certificate
     * the trust store trusts may speak for any member (Apache's admin guide: in FIPS mode "hostname verification is
     * not available in the Quorum protocol"). Tandem deliberately does not copy that gap: in FIPS mode it keeps the
     * JDK's trust manager and asks the JDK's standard HTTPS endpoint identification for each check that is on (the
     * dialler against the {@code server.N} host it dials, the acceptor against the address the connection comes
     * from), as Apache's client port does in FIPS mode. That needs no lookup, so allowReverseDnsLookup has no effect
     * there (Apache: "not supported in FIPS mode").
     */
    public record HostChecks(boolean servers, boolean clients, boolean reverseLookup, boolean fipsMode) {
        static HostChecks of(Map<String, String> settings) {
            boolean servers = flag(get(settings, "hostnameVerification"), true);
            boolean clients = servers && flag(get(settings, "clientHostnameVerification"), true);
            String fips = settings.get(FIPS_MODE);
            if (fips == null || fips.isBlank()) fips = System.getProperty(FIPS_MODE_PROPERTY);
            return new HostChecks(servers, clients, flag(get(settings, "allowReverseDnsLookup"), true),
                    flag(fips == null ? null : fips.trim(), true));
        }

        /** Apache's ZKConfig.getBoolean: "true" case aside is true, any other value false, absent the default. */
        private static boolean flag(String value, boolean absent) {
            return value == null ? absent : value.equalsIgnoreCase("true");
        }

        /** Whether this side of a connection asks the JDK's endpoint identification. */
        boolean endpointIdentification(boolean dialler) {
            return fipsMode && (dialler ? servers : clients);
        }
    }

    /**
     * {@code apache}: one JDK context for both ends of Apache's quorum sockets and election connections (Apache mode),
     * its trust manager checking peers' hosts as Apache's does ({@link HostChecks}).
     */
    private record Contexts(SslContext server, SSLContext client, SSLContext apache) {
        static Contexts load(Function<String, String> stores, HostChecks checks, HostLookup lookup,
                             Function<String, String> knownNames) {
            return new Contexts(SslContexts.server(stores), SslContexts.client(stores), checks.fipsMode()
                    ? SslContexts.client(stores)
                    : SslContexts.client(stores, trust -> new PeerAddressTrustManager(trust, checks.servers(),
                            checks.clients(), checks.reverseLookup(), lookup, knownNames)));
        }
    }

    private QuorumTls(Function<String, String> stores, List<String> protocols, List<String> ciphers,
                      HostChecks checks, HostLookup lookup, boolean reloadCertFiles) {
        this.stores = stores;
        this.protocols = protocols;
        this.ciphers = ciphers;
        this.hostnameVerification = checks.servers();
        this.checks = checks;
        this.lookup = lookup;
        this.reloadCertFiles = reloadCertFiles;
        this.contexts = Contexts.load(stores, checks, lookup, knownNames::get);
    }

    /** The verdict on sslQuorum and an ssl.quorum.* key. */
    public static Verdict verdict(String key, String value) {
        String v = value == null ? "" : value.trim();
        if (key.equals(SSL_QUORUM) || key.equals(RELOAD_CERT_FILES)) {
            return v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false") ? Verdict.IMPLEMENTED
                    : Verdict.refused(key + " must be true or false");
        }
        if (!KEYS.contains(key)) return Verdict.refused(key + " is not implemented for TLS between quorum members");
        return switch (key) {
            case "ssl.quorum.clientAuth" -> v.equalsIgnoreCase("need") ? Verdict.IMPLEMENTED
                    : Verdict.refused("quorum members always authenticate each other: ssl.quorum.clientAuth must be need");
            case "ssl.quorum.hostnameVerification", "ssl.quorum.clientHostnameVerification",
                 "ssl.quorum.allowReverseDnsLookup" -> v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")
                    ? Verdict.IMPLEMENTED : Verdict.refused(key + " must be true or false");
            case "ssl.quorum.keyStore.type", "ssl.quorum.trustStore.type" -> List.of("JKS", "PKCS12", "PEM")
                    .contains(v.toUpperCase(Locale.ROOT)) ? Verdict.IMPLEMENTED
                    : Verdict.refused("store type " + v + " is not implemented (JKS, PKCS12, PEM)");
            case "ssl.quorum.protocol" -> List.of("TLS", "TLSv1.2", "TLSv1.3").contains(v) ? Verdict.IMPLEMENTED
                    : Verdict.refused("ssl.quorum.protocol " + v + " is not implemented (TLS, TLSv1.2, TLSv1.3)");
            default -> Verdict.IMPLEMENTED;
        };
    }

    /** The verdict on Apache's zoo.cfg key fips-mode. */
    public static Verdict fipsModeVerdict(String value) {
        String v = value == null ? "" : value.trim();
        return v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false") ? Verdict.IMPLEMENTED
                : Verdict.refused(FIPS_MODE + " must be true or false");
    }

    /** Null unless sslQuorum=true; IllegalArgumentException names an unreadable store or a missing key. */
    public static QuorumTls from(Map<String, String> settings) {
        return from(settings, HostLookup.SYSTEM);
    }

    /** As {@link #from(Map)}, peers' host names resolved by {@code lookup} (tests give a slow one). */
    public static QuorumTls from(Map<String, String> settings, HostLookup lookup) {
        String enabled = settings.get(SSL_QUORUM);
        if (enabled == null || !enabled.trim().equalsIgnoreCase("true")) return null;
        // As Apache's quorum sockets (QuorumX509Util through SSLContextAndOptions): ssl.quorum.enabledProtocols, else
        // the JDK's defaults for ssl.quorum.protocol (TLSv1.3 and TLSv1.2 for TLSv1.3); ssl.quorum.ciphersuites, else
        // Apache's own list. Both ends of a connection enable the same.
        String protocols = String.join(",", ZooKeeperTlsDefaults.socketProtocols(get(settings, "protocol"),
                get(settings, "enabledProtocols")));
        String ciphers = String.join(",", ZooKeeperTlsDefaults.cipherSuites(get(settings, "ciphersuites")));
        Function<String, String> kafkaKeys = key -> switch (key) {
            case "ssl.keystore.location" -> get(settings, "keyStore.location");
            case "ssl.keystore.password", "ssl.key.password" -> get(settings, "keyStore.password");
            case "ssl.keystore.type" -> storeType(settings, "keyStore");
            case "ssl.truststore.location" -> get(settings, "trustStore.location");
            case "ssl.truststore.password" -> get(settings, "trustStore.password");
            case "ssl.truststore.type" -> storeType(settings, "trustStore");
            case "ssl.enabled.protocols" -> protocols;
            case "ssl.cipher.suites" -> ciphers;
            case "ssl.client.auth" -> "required";
            default -> null;
        };
        if (kafkaKeys.apply("ssl.keystore.location") == null || kafkaKeys.apply("ssl.truststore.location") == null) {
            throw new IllegalArgumentException("sslQuorum=true needs ssl.quorum.keyStore.location and "
                    + "ssl.quorum.trustStore.location");
        }
        String reload = settings.get(RELOAD_CERT_FILES);
        HostChecks checks = HostChecks.of(settings);
        LOG.log(Level.DEBUG, () -> "quorum TLS host checks: " + checks);
        QuorumTls tls = new QuorumTls(kafkaKeys, SslContexts.enabledProtocols(kafkaKeys),
                SslContexts.cipherSuites(kafkaKeys), checks, lookup, reload != null && reload.trim().equalsIgnoreCase("true"));
        tls.warmUp();
        return tls;
    }

    /**
     * Runs one TLS handshake between two of this member's own engines in memory, on a TLS task thread, so that the
     * first election connection does not pay for loading and compiling the JDK's TLS code: measured, a cold first
     * dial-back took about four times as long as the next ones (ElectionDialBackTimingTest), and a member that answers
     * an Apache member's election connection late can lose the election race. Whatever fails here (the host checks
     * of a peer that is ourselves) only ends the warm-up.
     */
    private void warmUp() {
        try {
            io.tandem.server.tls.HandshakeTasks.executor().execute(() -> {
                try {
                    handshakeInMemory(apacheEngine("127.0.0.1", 0, true), apacheEngine("127.0.0.1", 0, false));
                } catch (Exception e) {
                    LOG.log(Level.DEBUG, () -> "quorum TLS warm-up ended: " + e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.log(Level.DEBUG, "quorum TLS warm-up skipped: the TLS task threads are busy");
        }
    }

    private static void handshakeInMemory(SSLEngine client, SSLEngine server) throws IOException {
        int size = Math.max(client.getSession().getPacketBufferSize(), server.getSession().getPacketBufferSize());
        java.nio.ByteBuffer toServer = java.nio.ByteBuffer.allocate(size * 4);
        java.nio.ByteBuffer toClient = java.nio.ByteBuffer.allocate(size * 4);
        java.nio.ByteBuffer empty = java.nio.ByteBuffer.allocate(0);
        java.nio.ByteBuffer sink = java.nio.ByteBuffer.allocate(client.getSession().getApplicationBufferSize() * 4);
        client.beginHandshake();
        server.beginHandshake();
        for (int step = 0; step < 100 && !(finished(client) && finished(server)); step++) {
            client.wrap(empty, toServer);
            server.wrap(empty, toClient);
            toServer.flip();
            toClient.flip();
            client.unwrap(toClient, sink.clear());
            server.unwrap(toServer, sink.clear());
            toServer.compact();
            toClient.compact();
            for (SSLEngine engine : List.of(client, server)) {
                for (Runnable task; (task = engine.getDelegatedTask()) != null; ) task.run();
            }
        }
    }

    private static boolean finished(SSLEngine engine) {
        javax.net.ssl.SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
        return status == javax.net.ssl.SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                || status == javax.net.ssl.SSLEngineResult.HandshakeStatus.FINISHED;
    }

    /**
     * With sslQuorumReloadCertFiles, starts reloading the stores whenever their files change and returns the watcher
     * (close it to stop); null without. As Apache's QuorumPeer, a watcher that cannot be set up fails the start.
     */
    public StoreFileWatcher watchStores(int myId) throws IOException {
        if (!reloadCertFiles) return null;
        List<Path> files = List.of(Path.of(stores.apply("ssl.keystore.location")),
                Path.of(stores.apply("ssl.truststore.location")));
        StoreFileWatcher watcher = StoreFileWatcher.start("zab-" + myId + "-cert-reload", files,
                () -> reload("server " + myId + " quorum TLS"));
        LOG.log(Level.INFO, () -> "server " + myId + ": reloads its quorum key and trust stores when these change: "
                + watcher.files());
        return watcher;
    }

    /**
     * Reads the stores again and, if both sides' contexts can be built from them, makes every quorum connection
     * from now on use them; otherwise keeps the contexts in force and says why. Never call it on an event loop.
     */
    boolean reload(String owner) {
        return StoreReload.attempt(LOG, owner, "new quorum connections", () -> Contexts.load(stores, checks, lookup, knownNames::get),
                loaded -> contexts = loaded);
    }

    private static String get(Map<String, String> settings, String key) {
        String v = settings.get(PREFIX + key);
        return v == null || v.isBlank() ? null : v.trim();
    }

    /** Apache infers a store's type from its file name when the type is not set. */
    private static String storeType(Map<String, String> settings, String store) {
        String type = get(settings, store + ".type");
        if (type != null) return type;
        String location = get(settings, store + ".location");
        if (location == null) return null;
        String name = location.toLowerCase(Locale.ROOT);
        if (name.endsWith(".p12") || name.endsWith(".pfx")) return "PKCS12";
        if (name.endsWith(".pem")) return "PEM";
        return "JKS";
    }

    /** The acceptor's handler: it requires the dialler's certificate. */
    SslHandler acceptorHandler(ByteBufAllocator allocator) {
        return contexts.server().newHandler(allocator);
    }

    /** The dialler's handler for the member at {@code host}: its certificate must name that host when verifying. */
    SslHandler diallerHandler(String host, int port) {
        SSLEngine engine = contexts.client().createSSLEngine(host, port);
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setProtocols(protocols.toArray(String[]::new));
        if (!ciphers.isEmpty()) parameters.setCipherSuites(ciphers.toArray(String[]::new));
        if (hostnameVerification) parameters.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(parameters);
        return new SslHandler(engine);
    }

    /**
     * Apache mode (Apache's QuorumCnxManager and Learner): an engine for one election connection. The dialler's
     * engine carries the {@code server.N} host it dials, the acceptor's the address the connection comes from, and
     * the peer's certificate is checked against that as {@link HostChecks} says; the acceptor requires a certificate
     * (ssl.quorum.clientAuth). The checks may look names up: run the engine's delegated tasks on
     * {@link io.tandem.server.tls.HandshakeTasks}.
     */
    public SSLEngine apacheEngine(String peerHost, int peerPort, boolean dialler) {
        SSLEngine engine = contexts.apache().createSSLEngine(peerHost, peerPort);
        engine.setUseClientMode(dialler);
        SSLParameters parameters = apacheParameters(engine.getSSLParameters(), dialler);
        engine.setSSLParameters(parameters);
        return engine;
    }

    /** Apache mode: an unconnected socket a learner dials its leader with (Apache's createSSLSocket). */
    public SSLSocket apacheSocket() throws IOException {
        SSLSocket socket = (SSLSocket) contexts.apache().getSocketFactory().createSocket();
        socket.setSSLParameters(apacheParameters(socket.getSSLParameters(), true));
        socket.setUseClientMode(true);
        return socket;
    }

    /**
     * Apache mode: TLS over a learner's connection the leader accepted, in the server role and with the stores in force
     * now, so that after a reload the leader's quorum port shows the new certificate to new learners. (Apache's
     * leader makes its SSLServerSocket from the context of the moment it starts leading and keeps it for the whole
     * leadership unless portUnification wraps each connection; this does what its port unification does.)
     */
    public SSLSocket apacheAccepted(Socket accepted) throws IOException {
        // The learner's address is the session's peer host, which the JDK's endpoint identification checks in FIPS
        // mode (ZKTrustManager takes the socket's address itself).
        SSLSocket socket = (SSLSocket) contexts.apache().getSocketFactory().createSocket(accepted,
                accepted.getInetAddress().getHostAddress(), accepted.getPort(), true);
        socket.setSSLParameters(apacheParameters(socket.getSSLParameters(), false));
        socket.setUseClientMode(false);
        return socket;
    }

    /**
     * SSLContextAndOptions.configureSslParameters: the suites and protocols, and client authentication needed; in
     * FIPS mode the JDK's host check where one is on ({@link HostChecks}).
     */
    private SSLParameters apacheParameters(SSLParameters parameters, boolean dialler) {
        parameters.setProtocols(protocols.toArray(String[]::new));
        if (!ciphers.isEmpty()) parameters.setCipherSuites(ciphers.toArray(String[]::new));
        if (!dialler) parameters.setNeedClientAuth(true);
        if (checks.endpointIdentification(dialler)) parameters.setEndpointIdentificationAlgorithm("HTTPS");
        return parameters;
    }

    /**
     * Apache mode: whether the acceptor's check may need the name of the address a connection comes from (outside
     * FIPS mode, with both checks and reverse lookups on). It is then looked up before the handshake
     * ({@link #learnName}), off the event loop, since the acceptor's handshake runs its checks on the loop.
     */
    public boolean namesAcceptedPeers() {
        return !checks.fipsMode() && checks.clients() && checks.reverseLookup();
    }

    /** Looks up the name of {@code address} in reverse for the acceptor's check. Blocks on DNS. */
    public void learnName(InetAddress address) {
        try {
            // A copy: getHostName keeps the name it finds in its InetAddress, which the channel's address must not.
            knownNames.put(address.getHostAddress(), InetAddress.getByAddress(address.getAddress()).getHostName());
        } catch (java.net.UnknownHostException e) {
            // Never: the address has a valid length.
        }
    }

    /** Apache mode: whether the dialler's check of {@code host} looks it up (a name, checked outside FIPS mode). */
    public boolean diallerLooksUp(String host) {
        return !checks.fipsMode() && checks.servers()
                && io.netty.util.NetUtil.createByteArrayFromIpAddressString(host) == null;
    }

    /** Apache mode: how peers' host checks are made. */
    public HostChecks hostChecks() {
        return checks;
    }

    /** How this member's quorum TLS resolves peers' host names (off the event loops: {@link HostLookup}). */
    public HostLookup lookup() {
        return lookup;
    }

    /**
     * Null when the dialler's certificate may speak for the member at {@code host} (always, without host name
     * verification), else why not.
     */
    String checkDialler(SSLEngine engine, String host) {
        if (!hostnameVerification) return null;
        try {
            X509Certificate certificate = (X509Certificate) engine.getSession().getPeerCertificates()[0];
            return names(certificate, host) ? null : "its certificate does not name " + host
                    + " (ssl.quorum.hostnameVerification is true)";
        } catch (SSLPeerUnverifiedException | CertificateParsingException e) {
            return "its certificate cannot be checked: " + e.getMessage();
        }
    }

    /** Whether a subject alternative name of the certificate is the host (an IP address or a DNS name, "*." allowed). */
    private static boolean names(X509Certificate certificate, String host) throws CertificateParsingException {
        if (certificate.getSubjectAlternativeNames() == null) return false;
        boolean literal = host.matches("[0-9.]+") || host.contains(":");
        for (List<?> name : certificate.getSubjectAlternativeNames()) {
            int type = (Integer) name.get(0);
            String value = String.valueOf(name.get(1));
            if (literal && type == 7) {
                try {
                    if (InetAddress.getByName(value).equals(InetAddress.getByName(host))) return true;
                } catch (java.net.UnknownHostException ignored) {
                    // A literal never needs a lookup; a malformed one names nothing.
                }
            } else if (!literal && type == 2) {
                String dns = value.toLowerCase(Locale.ROOT);
                String h = host.toLowerCase(Locale.ROOT);
                if (dns.equals(h) || (dns.startsWith("*.") && h.indexOf('.') > 0 && h.substring(h.indexOf('.')).equals(dns.substring(1)))) {
                    return true;
                }
            }
        }
        return false;
    }
}
