package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.ApiVersionsResponse;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One handler per API key with the versions it serves. Registering a key twice or a version the codec cannot
 * encode fails at start-up, and the ApiVersions answer is built from this registry, so it can never advertise an
 * API the broker does not serve.
 */
public final class ApiRegistry {
    /** A registered API: its served version range and its handler. */
    public record Entry(ApiKey key, short minVersion, short maxVersion, ApiHandler<ApiMessage> handler) {
        public boolean serves(short version) {
            return version >= minVersion && version <= maxVersion;
        }
    }

    private final Map<ApiKey, Entry> entries = new EnumMap<>(ApiKey.class);
    /** Who watches requests for the metrics; read for every request, so it can be set once the broker runs. */
    private volatile RequestObserver observer = RequestObserver.NONE;

    @SuppressWarnings("unchecked")
    public <Q extends ApiMessage> ApiRegistry register(ApiKey key, int minVersion, int maxVersion,
                                                       ApiHandler<Q> handler) {
        if (entries.containsKey(key)) throw new IllegalStateException("API " + key.apiName() + " registered twice");
        if (minVersion < key.minVersion() || maxVersion > key.latestVersion() || minVersion > maxVersion) {
            throw new IllegalArgumentException("API " + key.apiName() + " versions " + minVersion + "-" + maxVersion
                    + " outside the codec's " + key.minVersion() + "-" + key.latestVersion());
        }
        entries.put(key, new Entry(key, (short) minVersion, (short) maxVersion, (ApiHandler<ApiMessage>) handler));
        return this;
    }

    /** Fault injection's rules; read for every request, so a test can arm them while the broker runs. */
    private volatile RequestFaults faults = RequestFaults.NONE;

    public RequestFaults faults() {
        return faults;
    }

    public void faults(RequestFaults faults) {
        this.faults = faults;
    }

    /** The request_percentage quota; read for every answer, set once the broker's quotas exist. */
    private volatile RequestTimeQuota requestQuota = RequestTimeQuota.NONE;

    public RequestTimeQuota requestQuota() {
        return requestQuota;
    }

    public void requestQuota(RequestTimeQuota requestQuota) {
        this.requestQuota = requestQuota;
    }

    /** Told of every closed connection; registered once while the broker starts, read on every close. */
    private final List<ConnectionCloseListener> closeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public void addConnectionCloseListener(ConnectionCloseListener listener) {
        closeListeners.add(listener);
    }

    /** Whether anyone listens for closed connections (if not, a close costs no hand-off to a handler thread). */
    boolean hasConnectionCloseListeners() {
        return !closeListeners.isEmpty();
    }

    /** Tells every listener the connection closed; a failing listener does not keep the others from hearing it. */
    void connectionClosed(String connectionId) {
        for (ConnectionCloseListener listener : closeListeners) {
            try {
                listener.connectionClosed(connectionId);
            } catch (RuntimeException e) {
                System.getLogger(ApiRegistry.class.getName()).log(System.Logger.Level.WARNING,
                        "A listener of closed connections failed on " + connectionId, e);
            }
        }
    }

    public RequestObserver observer() {
        return observer;
    }

    public void observer(RequestObserver observer) {
        this.observer = observer;
    }

    /** Wraps every registered handler (the authorizer's checks) while keeping its key and versions. */
    public void wrapHandlers(java.util.function.BiFunction<ApiKey, ApiHandler<ApiMessage>, ApiHandler<ApiMessage>> wrap) {
        entries.replaceAll((k, e) -> new Entry(k, e.minVersion(), e.maxVersion(), wrap.apply(k, e.handler())));
    }

    public Entry lookup(ApiKey key) {
        return entries.get(key);
    }

    /** The ApiVersions list: exactly the registered keys and ranges, in key order. */
    public List<ApiVersionsResponse.ApiVersion> apiVersions() {
        List<ApiVersionsResponse.ApiVersion> list = new ArrayList<>();
        for (Entry e : entries.values()) {
            list.add(new ApiVersionsResponse.ApiVersion().setApiKey(e.key().id()).setMinVersion(e.minVersion())
                    .setMaxVersion(e.maxVersion()));
        }
        return list;
    }
}
