package io.tandem.server.console;

import io.tandem.server.http.HttpRequest;
import io.tandem.kafka.client.ClientSecurity;
import io.tandem.server.TandemConfig;
import io.tandem.server.http.HttpEndpoint;
import io.tandem.server.zab.QuorumTransport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The web console on {@code console.port} (bound to {@code console.address}, else the ZooKeeper client address):
 * the pages from {@code resources/console/} at {@code /}, and {@link ConsoleApi} at {@code /api/}. It runs only when
 * asked for, on the node's own {@link HttpEndpoint}, and reads the node through its Kafka and ZooKeeper ports like any
 * client.
 */
public final class ConsoleServer implements AutoCloseable {
    /** Tandem's own keys: the console's port (off unless set; 0 = any free port) and bind address. */
    public static final String PORT = "console.port";
    public static final String ADDRESS = "console.address";
    /** The only files served, by URL path: nothing else on the class path can be read through the console. */
    private static final Map<String, String[]> PAGES = Map.of(
            "/", new String[] {"index.html", "text/html; charset=utf-8"},
            "/index.html", new String[] {"index.html", "text/html; charset=utf-8"},
            "/console.css", new String[] {"console.css", "text/css; charset=utf-8"},
            "/console.js", new String[] {"console.js", "text/javascript; charset=utf-8"});

    private final HttpEndpoint endpoint;
    private final KafkaView kafka;
    private final ZooKeeperView zookeeper;
    private final Map<String, HttpEndpoint.Response> pages;

    private ConsoleServer(HttpEndpoint endpoint, KafkaView kafka, ZooKeeperView zookeeper,
                          Map<String, HttpEndpoint.Response> pages) {
        this.endpoint = endpoint;
        this.kafka = kafka;
        this.zookeeper = zookeeper;
        this.pages = pages;
    }

    /**
     * Starts the console.
     *
     * @param bootstrapServers the node's Kafka listener, or null when it runs no broker
     * @param kafkaSecurity    how to speak to that listener (its TLS and SASL, with the broker's own credentials)
     * @param zookeeperConnect the ZooKeeper the znode pages read (the node's own, or its broker's), or null
     */
    public static ConsoleServer start(TandemConfig config, String defaultHost, String bootstrapServers,
                                      ClientSecurity kafkaSecurity, String zookeeperConnect) throws IOException {
        Map<String, HttpEndpoint.Response> pages = new TreeMap<>();
        for (Map.Entry<String, String[]> page : PAGES.entrySet()) {
            pages.put(page.getKey(), new HttpEndpoint.Response(200, page.getValue()[1], resource(page.getValue()[0])));
        }
        KafkaView kafka = bootstrapServers == null ? null : new KafkaView(bootstrapServers, kafkaSecurity);
        ZooKeeperView zookeeper = zookeeperConnect == null ? null
                : new ZooKeeperView(zookeeperConnect, members(config, zookeeperConnect));
        HttpEndpoint endpoint = HttpEndpoint.start("Web console", config.get(ADDRESS, defaultHost),
                config.getInt(PORT, 0));
        ConsoleServer server = new ConsoleServer(endpoint, kafka, zookeeper, pages);
        ConsoleApi api = new ConsoleApi(kafka, zookeeper);
        endpoint.route(ConsoleApi.PREFIX, api::handle);
        endpoint.route("/", server::page);
        return server;
    }

    private HttpEndpoint.Response page(HttpRequest request) {
        HttpEndpoint.Response page = pages.get(request.path());
        return page != null ? page : HttpEndpoint.Response.text(404, "text/plain; charset=utf-8", "Not found\n");
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ConsoleServer.class.getResourceAsStream("/console/" + name)) {
            if (in == null) throw new IOException("the console's " + name + " is missing from the class path");
            return in.readAllBytes();
        }
    }

    /**
     * The ensemble members to ask {@code srvr}: each {@code server.N} line's client address (its {@code ;host:port}
     * part, else its host with this node's client port), or, without server lines, the connect string's hosts.
     */
    static List<InetSocketAddress> members(TandemConfig config, String zookeeperConnect) {
        Map<Integer, String> lines = new TreeMap<>();
        for (Map.Entry<String, String> entry : config.settings().entrySet()) {
            if (entry.getKey().matches("server\\.\\d+")) {
                lines.put(Integer.parseInt(entry.getKey().substring("server.".length())), entry.getValue());
            }
        }
        List<InetSocketAddress> members = new ArrayList<>();
        for (Map.Entry<Integer, String> line : lines.entrySet()) {
            QuorumTransport.Peer peer = QuorumTransport.Peer.parse(line.getKey(), line.getValue());
            String[] client = QuorumTransport.Peer.clientAddress(line.getKey(), line.getValue());
            String host = client == null || client[0] == null || client[0].equals("0.0.0.0") ? peer.host() : client[0];
            int port = client == null ? config.zookeeperPort() : Integer.parseInt(client[1]);
            members.add(InetSocketAddress.createUnresolved(host, port));
        }
        if (members.isEmpty()) {
            String hosts = zookeeperConnect.split("/", 2)[0];
            for (String hostPort : hosts.split(",")) {
                int colon = hostPort.lastIndexOf(':');
                if (colon > 0) {
                    members.add(InetSocketAddress.createUnresolved(hostPort.substring(0, colon).trim()
                            .replace("[", "").replace("]", ""), Integer.parseInt(hostPort.substring(colon + 1).trim())));
                }
            }
        }
        return members;
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return endpoint.port();
    }

    @Override
    public void close() {
        endpoint.close();
        if (kafka != null) kafka.close();
        if (zookeeper != null) zookeeper.close();
    }
}
