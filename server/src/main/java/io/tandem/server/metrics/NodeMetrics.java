package io.tandem.server.metrics;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.server.http.HttpEndpoint;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.RequestObserver;
import io.tandem.server.zookeeper.ZkRequestObserver;
import io.tandem.server.zookeeper.ZooKeeperRole;
import java.io.IOException;

/**
 * The node's Prometheus endpoint: one Micrometer registry per node (so several nodes in one JVM, as in tests, keep
 * their figures apart) with the JVM's meters, the ZooKeeper server's and the broker's, served as Prometheus text at
 * {@code /metrics} on {@code metrics.port}. Nothing here runs unless that key is set.
 */
public final class NodeMetrics implements AutoCloseable {
    /** Tandem's key: the port of the Prometheus endpoint (0: any free one); unset, there is no endpoint. */
    public static final String PORT = "metrics.port";
    /** Tandem's key: the address it binds (default: the ZooKeeper client address, else every interface). */
    public static final String ADDRESS = "metrics.address";
    /** The path Prometheus scrapes. */
    public static final String PATH = "/metrics";
    /** Prometheus' text exposition format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final ZooKeeperRole zookeeper;
    private final KafkaBroker kafka;
    private ZooKeeperMetrics zookeeperMetrics;
    private KafkaMetrics kafkaMetrics;
    private QuotaMetrics quotaMetrics;
    private HttpEndpoint endpoint;

    private NodeMetrics(ZooKeeperRole zookeeper, KafkaBroker kafka) {
        this.zookeeper = zookeeper;
        this.kafka = kafka;
    }

    /** Starts watching the roles that run here (either may be null) and serves the endpoint on host:port. */
    public static NodeMetrics start(String host, int port, ZooKeeperRole zookeeper, KafkaBroker kafka)
            throws IOException {
        NodeMetrics metrics = new NodeMetrics(zookeeper, kafka);
        try {
            metrics.bind();
            metrics.endpoint = HttpEndpoint.start("metrics", host, port).route(PATH, request ->
                    HttpEndpoint.Response.text(200, CONTENT_TYPE, metrics.scrape()));
        } catch (IOException | RuntimeException e) {
            metrics.close();
            throw e;
        }
        return metrics;
    }

    private void bind() throws IOException {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        if (zookeeper != null) {
            try {
                zookeeperMetrics = new ZooKeeperMetrics(zookeeper, registry);
            } catch (Exception e) {
                throw new IOException("cannot read the ZooKeeper server's figures: " + e, e);
            }
            zookeeper.observe(zookeeperMetrics);
        }
        if (kafka != null) {
            kafkaMetrics = new KafkaMetrics(kafka, registry);
            quotaMetrics = new QuotaMetrics(kafka.clientQuotas(), registry);
            kafka.apiRegistry().observer(kafkaMetrics);
        }
    }

    /** The Prometheus text of every meter, with the figures read afresh. */
    public String scrape() throws Exception {
        if (zookeeperMetrics != null) zookeeperMetrics.refresh();
        if (kafkaMetrics != null) kafkaMetrics.refresh();
        if (quotaMetrics != null) quotaMetrics.refresh();
        return registry.scrape();
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return endpoint == null ? -1 : endpoint.port();
    }

    @Override
    public void close() {
        if (endpoint != null) endpoint.close();
        if (zookeeper != null) zookeeper.observe(ZkRequestObserver.NONE);
        if (kafka != null && kafka.apiRegistry() != null) kafka.apiRegistry().observer(RequestObserver.NONE);
        gc.close();
        registry.close();
    }
}
