package io.tandem.server.zab.apache;

import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SslHandler;
import io.tandem.server.tls.HandshakeTasks;
import io.tandem.server.tls.HostLookup;
import io.tandem.server.zab.QuorumTls;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;

/**
 * How Apache's quorum protocols open their connections: plain TCP, or with {@code sslQuorum=true} TLS on both the
 * election port and the quorum port, as Apache 3.9.5 without {@code portUnification}: every election connection
 * (QuorumCnxManager) and every learner's connection to its leader (Learner.connectToLeader, the leader's
 * LearnerCnxAcceptor) handshakes before its first byte, each side showing its certificate and trusting the other's
 * by {@code ssl.quorum.trustStore}, the acceptor requiring one. Each connection takes the stores in force when it
 * is made, so after a reload ({@code sslQuorumReloadCertFiles}) new connections use the new ones, open ones keep
 * theirs.
 */
public interface QuorumSockets {
    /** Plain TCP, Apache's default. */
    QuorumSockets PLAIN = new QuorumSockets() {
        @Override
        public Socket learnerSocket() {
            return new Socket();
        }

        @Override
        public void handshake(Socket connected) {
        }

        @Override
        public Socket accepted(Socket learner) {
            return learner;
        }

        @Override
        public ChannelHandler electionHandler(String peerHost, int peerPort, boolean dialler) {
            return null;
        }

        @Override
        public HostLookup lookup() {
            return HostLookup.SYSTEM;
        }

        @Override
        public boolean namesAcceptedPeers() {
            return false;
        }

        @Override
        public void learnPeerName(InetAddress address) {
        }
    };

    /** An unconnected socket for a learner's connection to its leader (or learner master). */
    Socket learnerSocket() throws IOException;

    /** Completes the TLS handshake of a learner's socket right after its connect, as Apache's learner does. */
    void handshake(Socket connected) throws IOException;

    /**
     * A learner's connection as the leader's accept loop hands it to its learner handler: over TLS in the server role
     * (the handshake runs on the handler's first read, within its initLimit timeout), or the socket itself.
     */
    Socket accepted(Socket learner) throws IOException;

    /** The first handler of an election connection with the peer at {@code peerHost:peerPort}, or null for none. */
    ChannelHandler electionHandler(String peerHost, int peerPort, boolean dialler);

    /** Resolves a {@code server.N} host before it is dialled; blocks, so never on an event loop. */
    HostLookup lookup();

    /** Whether an accepted election connection's peer must be named ({@link #learnPeerName}) before its handshake. */
    boolean namesAcceptedPeers();

    /** Looks up the name of an accepted connection's peer for its host check; blocks, so never on an event loop. */
    void learnPeerName(InetAddress address);

    /** sslQuorum's TLS from {@code tls}'s stores. */
    static QuorumSockets tls(QuorumTls tls) {
        return new QuorumSockets() {
            @Override
            public Socket learnerSocket() throws IOException {
                return tls.apacheSocket();
            }

            @Override
            public void handshake(Socket connected) throws IOException {
                ((SSLSocket) connected).startHandshake();
            }

            @Override
            public Socket accepted(Socket learner) throws IOException {
                return tls.apacheAccepted(learner);
            }

            @Override
            public ChannelHandler electionHandler(String peerHost, int peerPort, boolean dialler) {
                SSLEngine engine = tls.apacheEngine(peerHost, peerPort, dialler);
                // The JDK calls the trust manager from the engine's delegated tasks. A dialler's check of a name
                // resolves it: those tasks run off the event loop. Otherwise they need no lookup (an acceptor's
                // peer is an address, its name looked up before, see namesAcceptedPeers) and run on the loop,
                // saving two thread hops per handshake; an acceptor's must (PeerAddressTrustManager).
                return dialler && tls.diallerLooksUp(peerHost)
                        ? new SslHandler(engine, HandshakeTasks.executor()) : new SslHandler(engine);
            }

            @Override
            public boolean namesAcceptedPeers() {
                return tls.namesAcceptedPeers();
            }

            @Override
            public void learnPeerName(InetAddress address) {
                tls.learnName(address);
            }

            @Override
            public HostLookup lookup() {
                return tls.lookup();
            }
        };
    }
}
