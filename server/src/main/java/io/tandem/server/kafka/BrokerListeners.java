package io.tandem.server.kafka;

import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.network.ConnectionLimits;
import io.tandem.server.kafka.network.KafkaServer;
import io.tandem.server.kafka.network.ListenerLimits;
import io.tandem.server.kafka.network.RequestDispatcher;
import io.tandem.server.kafka.security.ListenerSecurity;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A {@link KafkaBroker}'s listeners: one {@link KafkaServer} per configured listener, bound in the order of the
 * listeners setting, and the endpoints the broker registers for them. It owns binding, the bound ports and closing
 * them; the request handling behind them is the broker's.
 */
final class BrokerListeners {
    private final BrokerConfig config;
    /** One server per listener, by listener name, in the order of the listeners setting. */
    private final Map<String, KafkaServer> servers = new LinkedHashMap<>();

    BrokerListeners(BrokerConfig config) {
        this.config = config;
    }

    /** Binds every listener not bound yet; all share the limits, the handlers and the connection counts. */
    void start(ListenerLimits limits, ApiRegistry registry, RequestDispatcher requestExecutor,
               Map<String, ListenerSecurity> security, ConnectionLimits connectionLimits) throws InterruptedException {
        for (BrokerConfig.Listener l : config.listeners()) {
            if (servers.containsKey(l.name())) continue;
            // Kafka's protectedListener: the inter-broker one, when there are others, accepts past max.connections.
            boolean protect = config.listeners().size() > 1 && l.name().equals(config.interBrokerListener());
            servers.put(l.name(), KafkaServer.start(l.bindHost(), l.port(), limits, registry, requestExecutor,
                    security.get(l.name()), connectionLimits, protect));
        }
    }

    /** Every listener as registered: the inter-broker one first (other brokers and older readers take the first). */
    List<ListenerEndpoint> endpoints() {
        List<ListenerEndpoint> endpoints = new ArrayList<>();
        BrokerConfig.Listener interBroker = config.interBroker();
        List<BrokerConfig.Listener> ordered = new ArrayList<>(List.of(interBroker));
        for (BrokerConfig.Listener l : config.listeners()) {
            if (l != interBroker) ordered.add(l);
        }
        for (BrokerConfig.Listener l : ordered) {
            String host = l.advertisedHost() != null ? l.advertisedHost() : l.bindHost() != null ? l.bindHost()
                    : "127.0.0.1";
            KafkaServer bound = servers.get(l.name());
            int port = l.advertisedPort() != null ? l.advertisedPort() : bound != null ? bound.port() : l.port();
            endpoints.add(new ListenerEndpoint(l.name(), l.securityProtocol(), host, port));
        }
        return endpoints;
    }

    /** The bound port of the named listener, -1 when there is none. */
    int port(String listenerName) {
        KafkaServer server = servers.get(listenerName.toUpperCase(Locale.ROOT));
        return server == null ? -1 : server.port();
    }

    void close() {
        for (KafkaServer server : servers.values()) server.close();
    }
}
