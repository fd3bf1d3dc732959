package io.tandem.server.tls;

import java.net.Socket;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A client's trust in a server as Apache ZooKeeper 3.8's ZKTrustManager gives it (the ZooKeeper client of Kafka 3.9,
 * with a trust store and {@code zookeeper.ssl.hostnameVerification} on, outside FIPS mode): the chain must be trusted,
 * then the server's certificate must name the address dialled or, failing that, its host name
 * ({@link CertificateHostCheck#verifyAddressThenName}): a certificate for "localhost" passes a connection to
 * 127.0.0.1 by the reverse lookup. The name lookups run where the TLS engine's delegated tasks run: give the
 * SslHandler an executor other than the event loop.
 */
public final class AddressThenNameTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager trust;
    private final HostLookup lookup;

    /** With the dialled host's address from {@code lookup} (tests give one that is slow or records its thread). */
    public AddressThenNameTrustManager(X509ExtendedTrustManager trust, HostLookup lookup) {
        this.trust = trust;
        this.lookup = lookup;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        trust.checkServerTrusted(chain, authType, engine);
        try {
            CertificateHostCheck.verifyAddressThenName(lookup.byName(engine.getPeerHost()), chain[0]);
        } catch (UnknownHostException e) {
            throw new CertificateException("Failed to verify host", e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        trust.checkServerTrusted(chain, authType, socket);
        CertificateHostCheck.verifyAddressThenName(socket.getInetAddress(), chain[0]);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        trust.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        trust.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        trust.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        trust.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return trust.getAcceptedIssuers();
    }
}
