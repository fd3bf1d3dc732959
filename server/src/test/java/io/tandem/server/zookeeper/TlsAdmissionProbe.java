package io.tandem.server.zookeeper;

import io.tandem.server.tls.TestCertificates;
import io.tandem.zk.wire.proto.ConnectResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Whether a secure client port admits a TLS client, seen at once: a refused official client reports nothing before
 * its connect timeout, so a test asking it waits that timeout out for every refusal.
 */
final class TlsAdmissionProbe {
    /** Long enough for a loaded machine's first handshake; a port that neither answers nor closes fails the test. */
    private static final int PROBE_TIMEOUT_MS = 10_000;

    private TlsAdmissionProbe() {
    }

    /**
     * Whether a client with this key store (PKCS12, {@link TestCertificates#PASSWORD}) trusting {@code trustStore}
     * gets a session: a JDK TLS socket makes the handshake, then sends a ConnectRequest and reads the answer. A
     * refusal shows either as a failed handshake or, when the port checks the certificate after it (TLS 1.3 finishes
     * the client's side first; an ssl.authProvider checks on handshake completion), as an alert or a close where the
     * ConnectResponse would be.
     */
    static boolean admitted(int port, Path keyStore, Path trustStore) throws Exception {
        try (SSLSocket socket = (SSLSocket) clientContext(keyStore, trustStore).getSocketFactory()
                .createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(PROBE_TIMEOUT_MS);
            try {
                socket.startHandshake();
                ConnectResponse response = new RawZkClient(socket).connect(0, new byte[16], 30_000, 0, false);
                return response != null && response.sessionId() != 0;
            } catch (SocketTimeoutException e) {
                throw new AssertionError("port " + port + " neither answered the ConnectRequest nor closed", e);
            } catch (IOException e) {
                // An alert (SSLException), or the port closing under the client's next write (broken pipe, reset).
                return false;
            }
        }
    }

    private static SSLContext clientContext(Path keyStore, Path trustStore) throws Exception {
        char[] password = TestCertificates.PASSWORD.toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            keys.load(in, password);
        }
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, password);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(trustStore)) {
            trust.load(in, password);
        }
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(
                TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
        return context;
    }
}
