package io.tandem.server.tls;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import java.util.function.Function;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trust in a peer as Apache ZooKeeper 3.9.5's ZKTrustManager gives it outside FIPS mode: the chain must be trusted,
 * then, for each direction whose check is on, the peer's certificate must name the peer's address
 * ({@link CertificateHostCheck#verify}), or the host name that address was made from (the {@code server.N} host a
 * dialler connected to); an address without a name is looked up in reverse only with {@code allowReverseDnsLookup}
 * (Apache 3.9.5's default: true for the quorum, QuorumX509Util; false for the client port, ClientX509Util). The peer
 * is the socket's address, or the engine's peer host: an engine for an accepted connection must be made with the
 * remote address ({@code SSLContext.createSSLEngine(host, port)}).
 *
 * <p>Both lookups block on DNS, and the JDK calls this where the engine's delegated tasks run. A dialler that checks a
 * name gives its SslHandler {@link HandshakeTasks#executor()}; an acceptor whose peer's name may be needed looks it
 * up before the handshake, off the event loop, and passes it in {@code knownNames} (an accepted connection's peer
 * is an address literal, which needs no lookup). An acceptor cannot hand its tasks to another thread: a peer that
 * sends its last bytes and closes (Apache's election dialler after its initial message) while a task is away loses
 * those bytes in the SslHandler.
 */
public final class PeerAddressTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager trust;
    private final boolean checkServers;
    private final boolean checkClients;
    private final boolean reverseLookup;
    private final HostLookup lookup;
    /** Names of addresses looked up in reverse before their handshake, by address literal (else null). */
    private final Function<String, String> knownNames;

    /** Without reverse lookups (Apache's client port default), names resolved by the JDK. */
    public PeerAddressTrustManager(X509ExtendedTrustManager trust, boolean checkServers, boolean checkClients) {
        this(trust, checkServers, checkClients, false, HostLookup.SYSTEM, address -> null);
    }

    /**
     * @param checkServers check the host of a server this side dials (Apache's hostnameVerification)
     * @param checkClients check the host of a client that dials this side (Apache's clientHostnameVerification)
     * @param reverseLookup look up the name of an address that has none (Apache's allowReverseDnsLookup)
     * @param lookup resolves an engine's peer host when it is a name (a literal address is only parsed)
     * @param knownNames the name of an address already looked up in reverse off the event loop, or null; a reverse
     *                   lookup of an address it does not know blocks where the check runs
     */
    public PeerAddressTrustManager(X509ExtendedTrustManager trust, boolean checkServers, boolean checkClients,
                                   boolean reverseLookup, HostLookup lookup, Function<String, String> knownNames) {
        this.trust = trust;
        this.checkServers = checkServers;
        this.checkClients = checkClients;
        this.reverseLookup = reverseLookup;
        this.lookup = lookup;
        this.knownNames = knownNames;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        trust.checkClientTrusted(chain, authType, socket);
        if (checkClients) verify(named(socket.getInetAddress()), chain[0], reverseLookup);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        trust.checkServerTrusted(chain, authType, socket);
        if (checkServers) verify(named(socket.getInetAddress()), chain[0], reverseLookup);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        trust.checkClientTrusted(chain, authType, engine);
        if (checkClients) verify(named(peer(engine)), chain[0], reverseLookup);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        trust.checkServerTrusted(chain, authType, engine);
        if (checkServers) verify(named(peer(engine)), chain[0], reverseLookup);
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

    private InetAddress peer(SSLEngine engine) throws CertificateException {
        if (engine.getPeerHost() == null) {
            // Apache would take InetAddress.getByName(null), the loopback address: never check against that.
            throw new CertificateException("Failed to verify host: the TLS engine knows no peer address");
        }
        // An address literal (an accepted connection's peer) is parsed here: no lookup, wherever this runs.
        InetAddress literal = NetUtil.createInetAddressFromIpAddressString(engine.getPeerHost());
        if (literal != null) return literal;
        try {
            return lookup.byName(engine.getPeerHost());
        } catch (UnknownHostException e) {
            throw new CertificateException("Failed to verify host", e);
        }
    }

    /** {@code peer} with the name already looked up for its address, if any (the same InetAddress otherwise). */
    private InetAddress named(InetAddress peer) {
        if (!reverseLookup || !peer.toString().startsWith("/")) return peer;
        String name = knownNames.apply(peer.getHostAddress());
        if (name == null) return peer;
        try {
            return InetAddress.getByAddress(name, peer.getAddress());
        } catch (UnknownHostException e) {
            return peer; // never: the address has a valid length
        }
    }

    /** ZKTrustManager.performHostVerification (3.9.5). */
    static void verify(InetAddress peer, X509Certificate certificate, boolean reverseLookup)
            throws CertificateException {
        try {
            CertificateHostCheck.verify(peer.getHostAddress(), certificate);
        } catch (CertificateException byAddress) {
            // InetAddress.toString is "name/address", or "/address" when the address was never given a name.
            if (peer.toString().startsWith("/") && !reverseLookup) {
                throw new CertificateException("Failed to verify host address, and reverse lookup is disabled",
                        byAddress);
            }
            try {
                // The name the address was made from, else (reverse lookups allowed) what reverse DNS answers.
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
