package io.tandem.server.tls;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509TrustManager;

/**
 * The certificate a TLS port shows, read by a raw JDK handshake that presents a client key pair (the ports under test
 * require one) and records, without judging, what the server sends: how the reload tests see which key store a port
 * serves at a given moment.
 */
public final class ServedCertificate {
    private ServedCertificate() {
    }

    /** The server's certificate in a handshake with 127.0.0.1:{@code port}, presenting the PKCS12 {@code keyStore}. */
    public static X509Certificate of(int port, Path keyStore, String password) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            keys.load(in, password.toCharArray());
        }
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, password.toCharArray());
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        X509TrustManager recorder = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen.set(chain[0]);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), new X509TrustManager[] {recorder}, null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
        }
        if (seen.get() == null) throw new AssertionError("port " + port + " showed no certificate");
        return seen.get();
    }
}
