package io.tandem.server.zookeeper;

import io.tandem.server.tls.TestCertificates;
import java.nio.file.Path;

/**
 * The certificates of the client host-name tests: the server's, two trusted client key pairs (one naming 127.0.0.1,
 * one naming only elsewhere.example) and two server trust stores holding both client certificates, the second in
 * the other order (the same trust, other bytes: a rewrite the port's file watcher sees).
 */
record ClientHostCertificates(TestCertificates server, Path addressClient, Path otherHostClient, Path trustBoth,
                              Path trustBothRewritten) {
    static ClientHostCertificates make(Path dir) throws Exception {
        TestCertificates server = TestCertificates.serverOnly(dir);
        Path addressClient = dir.resolve("address-client.p12");
        Path addressPem = TestCertificates.serverKeyStore(addressClient, "CN=addressclient", "IP:127.0.0.1");
        Path otherHostClient = dir.resolve("other-host-client.p12");
        Path otherPem = TestCertificates.serverKeyStore(otherHostClient, "CN=otherclient", "DNS:elsewhere.example");
        Path trustBoth = dir.resolve("trust-both.p12");
        TestCertificates.trust(trustBoth, "address", addressPem);
        TestCertificates.trust(trustBoth, "other", otherPem);
        Path trustBothRewritten = dir.resolve("trust-both-rewritten.p12");
        TestCertificates.trust(trustBothRewritten, "other", otherPem);
        TestCertificates.trust(trustBothRewritten, "address", addressPem);
        return new ClientHostCertificates(server, addressClient, otherHostClient, trustBoth, trustBothRewritten);
    }
}
