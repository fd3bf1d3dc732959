package io.tandem.server.kafka.group.consumer;

import java.util.UUID;

/** A topic as the assignors see it: name, id and partition count. */
public record TopicRef(String name, UUID id, int partitionCount) {
}
