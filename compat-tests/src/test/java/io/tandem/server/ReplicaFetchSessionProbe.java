package io.tandem.server;

import io.tandem.server.kafka.replica.FetchSessionHandler;

import java.util.Map;

/**
 * Test access to a Tandem broker's replica fetch sessions from compat-tests (the embedding API keeps the broker
 * itself package-private): each leader's session as the broker's fetcher last saw it.
 */
public final class ReplicaFetchSessionProbe {
    private ReplicaFetchSessionProbe() {
    }

    public static Map<Integer, FetchSessionHandler.Stats> fetchSessions(Tandem tandem) {
        return tandem.kafkaBroker().replicas().fetchSessions();
    }
}
