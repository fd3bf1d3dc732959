package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.consumer.TopicRef;
import io.tandem.server.kafka.group.consumer.TopicsView;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;

import java.util.Collection;
import java.util.Map;
import java.util.UUID;

/**
 * The set-up the group coordinator's persister tests share: one topic "t" of two partitions, a share coordinator
 * over an in-memory {@code __share_group_state}, and the local persister calling it, which a test wraps in a
 * {@link DelegatingSharePersister} to script the share coordinator's answers.
 */
final class ShareCoordinatorFixture {
    static final UUID TOPIC = new UUID(7, 7);
    private final Map<String, TopicRef> topics = Map.of("t", new TopicRef("t", TOPIC, 2));
    final TopicsView view = new TopicsView() {
        @Override public TopicRef byName(String name) { return topics.get(name); }
        @Override public TopicRef byId(UUID id) { return TOPIC.equals(id) ? topics.get("t") : null; }
        @Override public Collection<String> names() { return topics.keySet(); }
    };
    final ShareStateCoordinator shareCoordinator = new ShareStateCoordinator(10, new InMemoryStateLog(),
            (t, p) -> TOPIC.equals(t) && p < 2, () -> 1L);
    final LocalSharePersister local = new LocalSharePersister(shareCoordinator);

    /** The share-partition's stored state (a summary, which fences no leader), or null when it has none. */
    ShareStateCoordinator.State state(String groupId, int partition) {
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key(groupId, TOPIC, partition);
        return shareCoordinator.keys(groupId).contains(key) ? shareCoordinator.summary(key) : null;
    }
}
