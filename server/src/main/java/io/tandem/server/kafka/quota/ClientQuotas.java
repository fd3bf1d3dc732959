package io.tandem.server.kafka.quota;

import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.RequestTimeQuota;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Set;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * The broker's client quotas: the stored quotas ({@link ClientQuotaStore}), one {@link ClientQuotaManager} per rate
 * quota type enforcing them, the controller mutation quota ({@link ControllerMutationQuotaManager}, KIP-599) and the
 * connection creation rates of IP entities and of the broker ({@link ConnectionRateQuotas}, KIP-612). The quotas are read when the metadata store connects, again after every change made
 * on this broker, and whenever a change notification appears under {@code /config/changes} (a change made on
 * another broker, or by Kafka's own tools), so they apply to live connections without a restart.
 */
public final class ClientQuotas {
    private static final System.Logger LOG = System.getLogger(ClientQuotas.class.getName());

    /** The rate quota types, each a sampled rate per entity ({@link QuotaType#CONTROLLER_MUTATION} is apart). */
    private static final Set<QuotaType> RATE_TYPES = EnumSet.of(QuotaType.PRODUCE, QuotaType.FETCH, QuotaType.REQUEST);

    private final Map<QuotaType, ClientQuotaManager> managers = new EnumMap<>(QuotaType.class);
    private final ControllerMutationQuotaManager controllerMutations;
    private final ConnectionRateQuotas connectionRates;
    private final ExemptRequestTime exemptRequestTime;
    private final Executor reloads;
    private volatile ClientQuotaStore store;
    /** A re-read is queued and has not started: further notifications need no other. */
    private final AtomicBoolean reloadPending = new AtomicBoolean();

    /** {@code reloads} runs the re-reads a change notification asks for (never on the store's notification thread). */
    public ClientQuotas(QuotaWindow window, LongSupplier clockMs, Executor reloads) {
        this(window, QuotaWindow.DEFAULT, ConnectionRateQuotas.UNLIMITED, clockMs, reloads);
    }

    /**
     * {@code controllerWindow} is the controller mutation quota's ({@code controller.quota.window.*}); the connection
     * rates use the client quota {@code window}, as Kafka's ConnectionQuotas do, and {@code brokerConnectionRate} is
     * max.connection.creation.rate.
     */
    public ClientQuotas(QuotaWindow window, QuotaWindow controllerWindow, int brokerConnectionRate,
                        LongSupplier clockMs, Executor reloads) {
        this(window, controllerWindow, brokerConnectionRate, Map.of(), clockMs, reloads);
    }

    /** As above, with each listener's own max.connection.creation.rate by listener name. */
    public ClientQuotas(QuotaWindow window, QuotaWindow controllerWindow, int brokerConnectionRate,
                        Map<String, Integer> listenerConnectionRates, LongSupplier clockMs, Executor reloads) {
        for (QuotaType type : RATE_TYPES) managers.put(type, new ClientQuotaManager(type, window, clockMs));
        this.controllerMutations = new ControllerMutationQuotaManager(controllerWindow, clockMs);
        this.connectionRates = new ConnectionRateQuotas(window, brokerConnectionRate, listenerConnectionRates,
                clockMs);
        this.exemptRequestTime = new ExemptRequestTime(window, clockMs);
        this.reloads = reloads;
    }

    /**
     * The broker's quotas from its settings: every window and max.connection.creation.rate (the broker's and each
     * listener's), checked as Kafka's.
     */
    public static ClientQuotas fromSettings(Map<String, String> settings, LongSupplier clockMs, Executor reloads) {
        return new ClientQuotas(window(settings), ControllerMutationQuotaManager.window(settings),
                ConnectionRateQuotas.brokerRate(settings), ConnectionRateQuotas.listenerRates(settings), clockMs,
                reloads);
    }

    /** The quota window from {@code quota.window.num} and {@code quota.window.size.seconds} (Kafka's defaults 11, 1). */
    public static QuotaWindow window(Map<String, String> settings) {
        String samples = settings.get(QuotaWindow.SAMPLES_KEY);
        String size = settings.get(QuotaWindow.SIZE_SECONDS_KEY);
        return new QuotaWindow(samples == null ? QuotaWindow.DEFAULT.samples() : Integer.parseInt(samples.trim()),
                size == null ? QuotaWindow.DEFAULT.sizeMs() : Integer.parseInt(size.trim()) * 1000L);
    }

    /** Reads the stored quotas and follows their changes. */
    public void start(ZnodeStore znodes) throws Exception {
        store = new ClientQuotaStore(znodes);
        reload();
        znodes.watchChildren(KafkaZkLayout.CONFIG_CHANGES, () -> {
            // Every config change (topics' too) notifies here: a burst of them costs one re-read, not one each.
            if (!reloadPending.compareAndSet(false, true)) return;
            try {
                reloads.execute(() -> {
                    reloadPending.set(false);
                    reloadQuietly();
                });
            } catch (RejectedExecutionException closed) {
                // The broker is shutting down.
            }
        });
    }

    /** The store, or an error when the metadata store is not connected yet. */
    public ClientQuotaStore store() {
        ClientQuotaStore s = store;
        if (s == null) throw new IllegalStateException("the metadata store is not connected yet");
        return s;
    }

    public ClientQuotaManager manager(QuotaType type) {
        return managers.get(type);
    }

    public ControllerMutationQuotaManager controllerMutations() {
        return controllerMutations;
    }

    /** The connection creation rates, for the listeners' acceptors. */
    public ConnectionRateQuotas connectionRates() {
        return connectionRates;
    }

    /**
     * The controller mutation quota of a CreateTopics, CreatePartitions or DeleteTopics request, strict from
     * {@code strictSinceVersion} on (Kafka's ControllerMutationQuotaManager.newQuotaFor).
     */
    public ControllerMutationQuota controllerMutationQuota(RequestContext context, short strictSinceVersion) {
        return controllerMutations.newQuotaFor(user(context.principal()), context.clientId(), context.apiVersion(),
                strictSinceVersion);
    }

    /**
     * Raises the answer's throttle time to the mutation quota's and mutes the connection for it, as Kafka's
     * sendResponseMaybeThrottleWithControllerQuota (the request quota, applied afterwards, may raise it further).
     * Answers the throttle time for the response's throttle_time_ms.
     */
    public static int throttleMutations(RequestContext context, ControllerMutationQuota quota) {
        int throttleMs = quota.throttleTimeMs();
        context.throttle().throttle(throttleMs, quota);
        return throttleMs;
    }

    /** Re-reads every stored quota and hands each type's to its manager. */
    public synchronized void reload() throws Exception {
        Map<QuotaEntity, Map<String, String>> all = store().all();
        Map<QuotaType, Map<QuotaEntity, Double>> byType = new EnumMap<>(QuotaType.class);
        for (QuotaType type : QuotaType.values()) byType.put(type, new HashMap<>());
        Map<InetAddress, Integer> ipRates = new HashMap<>();
        int[] defaultIpRate = {ConnectionRateQuotas.UNLIMITED};
        all.forEach((entity, config) -> config.forEach((key, value) -> {
            if (entity.ip() != null) {
                if (QuotaType.IP_CONNECTION_RATE.equals(key)) ipRate(entity.ip(), value, ipRates, defaultIpRate);
                return;
            }
            QuotaType type = QuotaType.forKey(key);
            if (type == null) return;
            try {
                byType.get(type).put(entity, Double.parseDouble(value.trim()));
            } catch (NumberFormatException e) {
                LOG.log(System.Logger.Level.WARNING, "Ignoring quota " + key + "=" + value + " of " + entity.path()
                        + ": not a number");
            }
        }));
        for (QuotaType type : RATE_TYPES) managers.get(type).update(byType.get(type));
        controllerMutations.update(byType.get(QuotaType.CONTROLLER_MUTATION));
        connectionRates.update(ipRates, defaultIpRate[0]);
    }

    /**
     * One {@code /config/ips} quota, read as Kafka's IpConfigHandler reads it: the entity name is looked up as an
     * address (a host name resolves, as in Kafka), the value is an int. One that cannot be read is left out with a
     * warning, where Kafka's handler fails on it.
     */
    private static void ipRate(String ip, String value, Map<InetAddress, Integer> ipRates, int[] defaultIpRate) {
        int rate;
        try {
            rate = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            LOG.log(System.Logger.Level.WARNING, "Ignoring " + QuotaType.IP_CONNECTION_RATE + "=" + value + " of "
                    + QuotaEntity.ofIp(ip).path() + ": not an int");
            return;
        }
        if (ip.equals(QuotaEntity.DEFAULT)) {
            defaultIpRate[0] = rate;
            return;
        }
        try {
            ipRates.put(InetAddress.getByName(ip), rate);
        } catch (UnknownHostException e) {
            LOG.log(System.Logger.Level.WARNING, "Ignoring the connection rate quota of " + ip
                    + ": unable to resolve the address");
        }
    }

    private void reloadQuietly() {
        try {
            reload();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot re-read the client quotas: " + e);
        }
    }

    /**
     * A produce request, once handled: its size counts against the client's producer_byte_rate (Kafka's
     * request.sizeInBytes); when that is over the quota the connection is throttled. Answers the throttle time for
     * the response's throttle_time_ms.
     */
    public int throttleProduce(RequestContext context) {
        ClientQuotaManager produce = managers.get(QuotaType.PRODUCE);
        String user = user(context.principal());
        int throttleMs = produce.recordAndGetThrottleTimeMs(user, context.clientId(), context.requestBytes());
        if (throttleMs > 0) context.throttle().throttle(throttleMs, produce.owner(user, context.clientId()));
        return throttleMs;
    }

    /** The most a consumer's fetch may return under its consumer_byte_rate (Kafka's getMaxValueInQuotaWindow). */
    public long fetchBytesMax(RequestContext context) {
        double max = managers.get(QuotaType.FETCH).maxValueInQuotaWindow(user(context.principal()), context.clientId());
        return max >= Integer.MAX_VALUE ? Integer.MAX_VALUE : (long) max;
    }

    /**
     * A consumer's fetch answer of {@code responseBytes}: counted against its consumer_byte_rate. When that is over
     * the quota the bytes are taken back, as Kafka does, since the caller then answers without the records, and the
     * connection is throttled. Answers the throttle time (0: send the records).
     */
    public int throttleFetch(RequestContext context, int responseBytes) {
        ClientQuotaManager fetch = managers.get(QuotaType.FETCH);
        String user = user(context.principal());
        int throttleMs = fetch.recordAndGetThrottleTimeMs(user, context.clientId(), responseBytes);
        if (throttleMs > 0) {
            fetch.unrecord(user, context.clientId(), responseBytes);
            context.throttle().throttle(throttleMs, fetch.owner(user, context.clientId()));
        }
        return throttleMs;
    }

    /** Kafka's ClientRequestQuotaManager.NanosToPercentagePerSecond: one thread-second is 100%. */
    private static final double PERCENT_PER_NANO = 100.0 / 1_000_000_000L;
    /** Requests Kafka exempts from the request quota: those between brokers (its sendResponseExemptThrottle). */
    private static final Set<ApiKey> EXEMPT = EnumSet.of(ApiKey.LEADER_AND_ISR, ApiKey.STOP_REPLICA,
            ApiKey.UPDATE_METADATA, ApiKey.CONTROLLED_SHUTDOWN, ApiKey.ALTER_PARTITION, ApiKey.WRITE_TXN_MARKERS,
            ApiKey.ALLOCATE_PRODUCER_IDS);

    /** The handler time of requests exempt from the request quota (Kafka's exempt-request-time). */
    public ExemptRequestTime exemptRequestTime() {
        return exemptRequestTime;
    }

    /**
     * The request_percentage quota for the network layer: a request's handler time, as a percentage of one thread's
     * second, counts against the client's quota (Kafka's ClientRequestQuotaManager); its throttle is capped at one
     * quota window. Inter-broker requests, replica fetches and acks=0 produce requests are not counted, as Kafka's.
     */
    public RequestTimeQuota requestTimeQuota() {
        ClientQuotaManager requests = managers.get(QuotaType.REQUEST);
        return new RequestTimeQuota() {
            @Override
            public boolean armed() {
                return requests.quotasEnabled();
            }

            @Override
            public int recordAndThrottle(RequestContext context, Object request, long handlerNanos) {
                boolean exempt = EXEMPT.contains(context.apiKey())
                        || request instanceof FetchRequest fetch
                        && (context.apiVersion() >= 15 ? fetch.replicaState.replicaId : fetch.replicaId) >= 0
                        || request instanceof ProduceRequest produce && produce.acks == 0;
                if (exempt) {
                    exemptRequestTime.record(handlerNanos * PERCENT_PER_NANO);
                    return 0;
                }
                String user = user(context.principal());
                int throttleMs = requests.recordAndGetThrottleTimeMs(user, context.clientId(),
                        handlerNanos * PERCENT_PER_NANO);
                if (throttleMs > 0) {
                    context.throttle().throttle(throttleMs, requests.owner(user, context.clientId()));
                }
                return throttleMs;
            }
        };
    }

    /** The user a principal's quotas are looked up by: its name ({@code User:alice} is {@code alice}). */
    public static String user(String principal) {
        if (principal == null) return "";
        int colon = principal.indexOf(':');
        return colon < 0 ? principal : principal.substring(colon + 1);
    }
}
