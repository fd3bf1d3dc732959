package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.ZKConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Tandem's secure client port offers, handshake by handshake, against what Apache ZooKeeper 3.9.5's
 * NettyServerCnxnFactory offers with the same keys: its context built by Apache's own ClientX509Util (test scope)
 * behind a Netty listener. A probe client offers each protocol with all the JDK's cipher suites (the suite and
 * protocol agreed), and each suite alone (agreed or refused); both servers must answer every probe alike. Apache's
 * defaults differ from the JDK's: TLSv1.3 alone, and its own list of ECDHE suites.
 */
class ZooKeeperTlsOfferTest {
    @TempDir
    static Path dir;
    static TestCertificates certificates;
    static SSLContext client;

    @BeforeAll
    static void certificates() throws Exception {
        certificates = TestCertificates.create(dir);
        client = TestCertificates.trustingContext(certificates.trustStore);
    }

    @Test
    void shouldOfferApachesDefaultProtocolAndCipherSuites() throws Exception {
        Map<String, String> offers = compare("defaults", Map.of());
        // Apache's default protocol is TLSv1.3 alone: a client offering only TLSv1.2 is refused.
        assertEquals("refused", offers.get("TLSv1.2 with all suites"));
        assertTrue(offers.get("TLSv1.3 with all suites").startsWith("TLSv1.3 "), offers.toString());
    }

    @Test
    void shouldOfferOnlyApachesCipherListWithTls12() throws Exception {
        Map<String, String> offers = compare("tls12", Map.of("ssl.protocol", "TLSv1.2"));
        assertEquals("refused", offers.get("TLSv1.3 with all suites"));
        assertTrue(offers.get("TLSv1.2 with all suites").startsWith("TLSv1.2 TLS_ECDHE_RSA_"), offers.toString());
        // The JDK accepts this suite by default; Apache's list leaves it out.
        String jdkOnly = "TLSv1.2 with TLS_DHE_RSA_WITH_AES_128_GCM_SHA256";
        if (offers.containsKey(jdkOnly)) assertEquals("refused", offers.get(jdkOnly));
    }

    @Test
    void shouldTakeEnabledProtocolsAndCipherSuitesAsApacheDoes() throws Exception {
        Map<String, String> offers = compare("listed", Map.of("ssl.protocol", "TLSv1.2",
                "ssl.enabledProtocols", "TLSv1.2,TLSv1.3",
                "ssl.ciphersuites", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,TLS_AES_128_GCM_SHA256"));
        assertEquals("TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", offers.get("TLSv1.2 with all suites"));
        assertEquals("TLSv1.3 TLS_AES_128_GCM_SHA256", offers.get("TLSv1.3 with all suites"));
        assertFalse(offers.get("TLSv1.2 with TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384").startsWith("TLSv1.2"));
    }

    /** Probes Tandem's port and Apache's context with the same keys; asserts equal answers and returns Tandem's. */
    private static Map<String, String> compare(String name, Map<String, String> keys) throws Exception {
        TandemConfig config = TandemConfig.forTests(dir.resolve(name)).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("secureClientPort", "0")
                .set("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory")
                .set("ssl.clientAuth", "none")
                .set("ssl.keyStore.location", certificates.serverKeyStore.toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD);
        keys.forEach(config::set);
        ZKConfig apacheConfig = new ZKConfig();
        apacheConfig.setProperty("zookeeper.ssl.clientAuth", "none");
        apacheConfig.setProperty("zookeeper.ssl.keyStore.location", certificates.serverKeyStore.toString());
        apacheConfig.setProperty("zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD);
        keys.forEach((key, value) -> apacheConfig.setProperty("zookeeper." + key, value));
        SslContext apache;
        try (ClientX509Util x509 = new ClientX509Util()) {
            apache = x509.createNettySslContextForServer(apacheConfig);
        }
        EventLoopGroup group = new NioEventLoopGroup(1);
        try (Tandem tandem = Tandem.start(config)) {
            Channel listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(apache.newHandler(ch.alloc()));
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            int apachePort = ((InetSocketAddress) listener.localAddress()).getPort();
            Map<String, String> tandemOffers = probe(tandem.zookeeperSecurePort());
            Map<String, String> apacheOffers = probe(apachePort);
            listener.close().sync();
            assertEquals(apacheOffers, tandemOffers, name);
            return tandemOffers;
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    /** Each protocol with every suite, then each suite alone with the protocols it can serve. */
    private static Map<String, String> probe(int port) {
        Map<String, String> answers = new LinkedHashMap<>();
        String[] all = client.getSupportedSSLParameters().getCipherSuites();
        for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
            answers.put(protocol + " with all suites", handshake(port, protocol, all));
        }
        for (String suite : all) {
            if (suite.startsWith("TLS_EMPTY")) continue;
            // TLSv1.3 suites are named TLS_AES_* and TLS_CHACHA20_*; they serve no other protocol, nor others it.
            String protocol = suite.startsWith("TLS_AES_") || suite.startsWith("TLS_CHACHA20_") ? "TLSv1.3" : "TLSv1.2";
            answers.put(protocol + " with " + suite, handshake(port, protocol, new String[] {suite}));
        }
        return answers;
    }

    private static String handshake(int port, String protocol, String[] suites) {
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.setEnabledProtocols(new String[] {protocol});
            List<String> offered = new ArrayList<>(List.of(suites));
            offered.retainAll(List.of(socket.getSupportedCipherSuites()));
            socket.setEnabledCipherSuites(offered.toArray(String[]::new));
            socket.startHandshake();
            return socket.getSession().getProtocol() + " " + socket.getSession().getCipherSuite();
        } catch (IOException e) {
            return "refused";
        }
    }
}
