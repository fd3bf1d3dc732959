package io.tandem.server.tls;

import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trust in a peer as Apache ZooKeeper 3.9.5's ZKTrustManager gives it outside FIPS mode with
 * {@code allowReverseDnsLookup} at its default (false): the chain must be trusted, then, for each direction whose check
 * is on, the peer's certificate must name the peer's address ({@link CertificateHostCheck#verify}), or the host name
 * that address was made from (the {@code server.N} host a dialler connected to); an address without a name is never
 * looked up. The peer is the socket's address, or the engine's peer host: an engine for an accepted connection must
 * be made with the remote address ({@code SSLContext.createSSLEngine(host, port)}).
 */
public final class PeerAddressTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager trust;
    private final boolean checkServers;
    private final boolean checkClients;

    /**
     * @param checkServers check the host of a server this side dials (Apache's hostnameVerification)
     * @param checkClients check the host of a client that dials this side (Apache's clientHostnameVerification)
     */
    public PeerAddressTrustManager(X509ExtendedTrustManager trust, boolean checkServers, boolean checkClients) {
        this.trust = trust;
        this.checkServers = checkServers;
        this.checkClients = checkClients;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        trust.checkClientTrusted(chain, authType, socket);
        if (checkClients) verify(socket.getInetAddress(), chain[0]);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        trust.checkServerTrusted(chain, authType, socket);
        if (checkServers) verify(socket.getInetAddress(), chain[0]);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        trust.checkClientTrusted(chain, authType, engine);
        if (checkClients) verify(peer(engine), chain[0]);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        trust.checkServerTrusted(chain, authType, engine);
        if (checkServers) verify(peer(engine), chain[0]);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        trust.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        trust.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return trust.getAcceptedIssuers();
    }

    private static InetAddress peer(SSLEngine engine) throws CertificateException {
        if (engine.getPeerHost() == null) {
            // Apache would take InetAddress.getByName(null), the loopback address: never check against that.
            throw new CertificateException("Failed to verify host: the TLS engine knows no peer address");
        }
        try {
            return InetAddress.getByName(engine.getPeerHost());
        } catch (UnknownHostException e) {
            throw new CertificateException("Failed to verify host", e);
        }
    }

    /** ZKTrustManager.performHostVerification with reverse lookups off (3.9.5's default). */
    static void verify(InetAddress peer, X509Certificate certificate) throws CertificateException {
        try {
            CertificateHostCheck.verify(peer.getHostAddress(), certificate);
        } catch (CertificateException byAddress) {
            // InetAddress.toString is "name/address", or "/address" when the address was never given a name.
            if (peer.toString().startsWith("/")) {
                throw new CertificateException("Failed to verify host address, and reverse lookup is disabled",
                        byAddress);
            }
            try {
                CertificateHostCheck.verify(peer.getHostName(), certificate);
            } catch (CertificateException byName) {
                CertificateException both = new CertificateException("Failed to verify both host address and host"
                        + " name", byName);
                both.addSuppressed(byAddress);
                throw both;
            }
        }
    }
}
