package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBufAllocator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.apache.zookeeper.common.QuorumX509Util;
import org.apache.zookeeper.common.SSLContextAndOptions;
import org.apache.zookeeper.common.ZKConfig;
import org.junit.jupiter.api.Test;

/**
 * The protocols and cipher suites each end of a quorum connection enables under {@code sslQuorum}, in order, against
 * the sockets Apache ZooKeeper 3.9.5's QuorumX509Util makes from the same {@code ssl.quorum.*} keys (its own classes in
 * test scope): the dialler as Apache's learner socket, the acceptor as its server socket.
 */
class QuorumTlsOfferTest {
    static final QuorumCertificates certificates = QuorumCertificates.shared();

    @Test
    void shouldEnableWhatApacheEnablesByDefault() throws Exception {
        List<String> protocols = compare(Map.of());
        // Apache's context for its default TLSv1.3 enables TLSv1.2 as well on the quorum's sockets.
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), protocols);
    }

    @Test
    void shouldTakeTheProtocolAndTheListsAsApacheDoes() throws Exception {
        assertEquals(List.of("TLSv1.2"), compare(Map.of("ssl.quorum.protocol", "TLSv1.2")));
        assertEquals(List.of("TLSv1.3"), compare(Map.of("ssl.quorum.enabledProtocols", "TLSv1.3",
                "ssl.quorum.ciphersuites", "TLS_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")));
    }

    /** Asserts both ends enable what Apache's sockets enable; returns the protocols. */
    private static List<String> compare(Map<String, String> keys) throws Exception {
        Map<String, String> settings = new HashMap<>(certificates.settings(certificates.member));
        settings.putAll(keys);
        QuorumTls tls = QuorumTls.from(settings);
        ZKConfig apacheConfig = new ZKConfig();
        settings.forEach((key, value) -> {
            if (key.startsWith("ssl.quorum.")) apacheConfig.setProperty("zookeeper." + key, value);
        });
        SSLContextAndOptions apache;
        try (QuorumX509Util x509 = new QuorumX509Util()) {
            apache = x509.createSSLContextAndOptions(apacheConfig);
        }
        SSLEngine dialler = tls.diallerHandler("127.0.0.1", 2888).engine();
        SSLEngine acceptor = tls.acceptorHandler(ByteBufAllocator.DEFAULT).engine();
        try (SSLSocket learner = apache.createSSLSocket(); SSLServerSocket server = apache.createSSLServerSocket()) {
            assertEquals(List.of(learner.getEnabledProtocols()), List.of(dialler.getEnabledProtocols()));
            assertEquals(List.of(learner.getEnabledCipherSuites()), List.of(dialler.getEnabledCipherSuites()));
            assertEquals(List.of(server.getEnabledProtocols()), List.of(acceptor.getEnabledProtocols()));
            assertEquals(List.of(server.getEnabledCipherSuites()), List.of(acceptor.getEnabledCipherSuites()));
        }
        return List.of(dialler.getEnabledProtocols());
    }
}
