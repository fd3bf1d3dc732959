package io.tandem.server.kafka.security;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import java.security.SecureRandom;

/**
 * A TLS client context whose key and trust material can be replaced while it is in use: the broker's connections to
 * other brokers hold this one object (in their {@code ClientSecurity}), and each new connection takes whatever
 * context is current, so the inter-broker client follows its listener's reloaded stores (as Kafka's inter-broker
 * channel builders are reconfigured with the listener, KIP-226). Connections already open keep their session.
 */
public final class ReloadableSslContext extends SSLContext {
    private final Delegate delegate;

    private ReloadableSslContext(Delegate delegate, SSLContext initial) {
        super(delegate, initial.getProvider(), initial.getProtocol());
        this.delegate = delegate;
    }

    /** A context that behaves as {@code initial} until {@link #replace}d. */
    public static ReloadableSslContext of(SSLContext initial) {
        return new ReloadableSslContext(new Delegate(initial), initial);
    }

    /** New connections use {@code next} from now on. */
    public void replace(SSLContext next) {
        delegate.current = next;
    }

    /** The context new connections get now. */
    public SSLContext current() {
        return delegate.current;
    }

    /** Every engine call goes to the current context; it is built complete, so init is refused. */
    private static final class Delegate extends SSLContextSpi {
        private volatile SSLContext current;

        Delegate(SSLContext initial) {
            this.current = initial;
        }

        @Override
        protected void engineInit(KeyManager[] keys, TrustManager[] trust, SecureRandom random) {
            throw new UnsupportedOperationException("a reloadable context is built from its stores, never initialised");
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return current.getSocketFactory();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return current.getServerSocketFactory();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return current.createSSLEngine();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return current.createSSLEngine(host, port);
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return current.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return current.getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return current.getDefaultSSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return current.getSupportedSSLParameters();
        }
    }
}
