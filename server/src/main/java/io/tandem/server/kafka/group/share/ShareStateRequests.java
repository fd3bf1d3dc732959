package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.DeleteShareGroupStateRequest;
import io.tandem.kafka.wire.message.DeleteShareGroupStateResponse;
import io.tandem.kafka.wire.message.InitializeShareGroupStateRequest;
import io.tandem.kafka.wire.message.InitializeShareGroupStateResponse;
import io.tandem.kafka.wire.message.ReadShareGroupStateRequest;
import io.tandem.kafka.wire.message.ReadShareGroupStateResponse;
import io.tandem.kafka.wire.message.ReadShareGroupStateSummaryRequest;
import io.tandem.kafka.wire.message.ReadShareGroupStateSummaryResponse;
import io.tandem.kafka.wire.message.WriteShareGroupStateRequest;
import io.tandem.kafka.wire.message.WriteShareGroupStateResponse;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The share coordinator's five RPCs as a persister sends them to another broker: one request carrying any number of
 * share-partitions of one group (the schemas have one group id per request, so Kafka's persister coalesces per
 * coordinator node, RPC and group, as {@link ShareStateSender} does), and each share-partition's result read back out
 * of the answer. Every difference between the five lives here, in one switch per direction, so the persister's
 * calls differ only in what they put in a {@link Part} and take out of a {@link Result}.
 */
final class ShareStateRequests {
    private ShareStateRequests() {
    }

    /**
     * One RPC: its API key and the versions this broker may send, as Kafka 4.4's persister builds them (its request
     * builders allow every version, and its NetworkClient picks the newest the coordinator serves): the newest up to
     * what Kafka 4.4 sends, the oldest v0, since a v1 field a v0 coordinator lacks (the delivery-complete count) only
     * feeds its lag figure and a v0 answer reads it as unknown (-1).
     */
    enum Rpc {
        INITIALIZE(ApiKey.INITIALIZE_SHARE_GROUP_STATE, (short) 0, (short) 0),
        READ(ApiKey.READ_SHARE_GROUP_STATE, (short) 0, (short) 0),
        WRITE(ApiKey.WRITE_SHARE_GROUP_STATE, (short) 0, (short) 1),
        DELETE(ApiKey.DELETE_SHARE_GROUP_STATE, (short) 0, (short) 0),
        SUMMARY(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY, (short) 0, (short) 1);

        final ApiKey key;
        final short minVersion;
        final short maxVersion;

        Rpc(ApiKey key, short minVersion, short maxVersion) {
            this.key = key;
            this.minVersion = minVersion;
            this.maxVersion = maxVersion;
        }
    }

    /**
     * One share-partition's part of a request; each RPC reads the fields it has (a leader epoch of -1 is the group
     * coordinator's: no fencing).
     */
    record Part(UUID topicId, int partition, int stateEpoch, int leaderEpoch, long startOffset,
                int deliveryCompleteCount, List<ShareStateBatch> batches) {
        static Part of(UUID topicId, int partition) {
            return new Part(topicId, partition, 0, -1, 0, -1, List.of());
        }
    }

    /** One share-partition's answer; {@code stored} is what a read or summary returned (null for the others). */
    record Result(UUID topicId, int partition, short error, String message, SharePersister.Stored stored) {
    }

    /** The request carrying {@code parts}, all of group {@code groupId}, grouped by topic in the order given. */
    static ApiMessage request(Rpc rpc, String groupId, List<Part> parts) {
        Map<UUID, List<Part>> byTopic = new LinkedHashMap<>();
        for (Part p : parts) byTopic.computeIfAbsent(p.topicId(), t -> new ArrayList<>()).add(p);
        switch (rpc) {
            case INITIALIZE -> {
                InitializeShareGroupStateRequest r = new InitializeShareGroupStateRequest();
                r.groupId = groupId;
                byTopic.forEach((topicId, ps) -> {
                    InitializeShareGroupStateRequest.InitializeStateData t =
                            new InitializeShareGroupStateRequest.InitializeStateData();
                    t.topicId = topicId;
                    for (Part p : ps) {
                        InitializeShareGroupStateRequest.PartitionData d =
                                new InitializeShareGroupStateRequest.PartitionData();
                        d.partition = p.partition();
                        d.stateEpoch = p.stateEpoch();
                        d.startOffset = p.startOffset();
                        t.partitions.add(d);
                    }
                    r.topics.add(t);
                });
                return r;
            }
            case READ -> {
                ReadShareGroupStateRequest r = new ReadShareGroupStateRequest();
                r.groupId = groupId;
                byTopic.forEach((topicId, ps) -> {
                    ReadShareGroupStateRequest.ReadStateData t = new ReadShareGroupStateRequest.ReadStateData();
                    t.topicId = topicId;
                    for (Part p : ps) {
                        ReadShareGroupStateRequest.PartitionData d = new ReadShareGroupStateRequest.PartitionData();
                        d.partition = p.partition();
                        d.leaderEpoch = p.leaderEpoch();
                        t.partitions.add(d);
                    }
                    r.topics.add(t);
                });
                return r;
            }
            case WRITE -> {
                WriteShareGroupStateRequest r = new WriteShareGroupStateRequest();
                r.groupId = groupId;
                byTopic.forEach((topicId, ps) -> {
                    WriteShareGroupStateRequest.WriteStateData t = new WriteShareGroupStateRequest.WriteStateData();
                    t.topicId = topicId;
                    for (Part p : ps) {
                        WriteShareGroupStateRequest.PartitionData d = new WriteShareGroupStateRequest.PartitionData();
                        d.partition = p.partition();
                        d.stateEpoch = p.stateEpoch();
                        d.leaderEpoch = p.leaderEpoch();
                        d.startOffset = p.startOffset();
                        d.deliveryCompleteCount = p.deliveryCompleteCount();
                        for (ShareStateBatch b : p.batches()) {
                            WriteShareGroupStateRequest.StateBatch wire = new WriteShareGroupStateRequest.StateBatch();
                            wire.firstOffset = b.firstOffset();
                            wire.lastOffset = b.lastOffset();
                            wire.deliveryState = b.deliveryState();
                            wire.deliveryCount = b.deliveryCount();
                            d.stateBatches.add(wire);
                        }
                        t.partitions.add(d);
                    }
                    r.topics.add(t);
                });
                return r;
            }
            case DELETE -> {
                DeleteShareGroupStateRequest r = new DeleteShareGroupStateRequest();
                r.groupId = groupId;
                byTopic.forEach((topicId, ps) -> {
                    DeleteShareGroupStateRequest.DeleteStateData t = new DeleteShareGroupStateRequest.DeleteStateData();
                    t.topicId = topicId;
                    for (Part p : ps) {
                        DeleteShareGroupStateRequest.PartitionData d = new DeleteShareGroupStateRequest.PartitionData();
                        d.partition = p.partition();
                        t.partitions.add(d);
                    }
                    r.topics.add(t);
                });
                return r;
            }
            case SUMMARY -> {
                ReadShareGroupStateSummaryRequest r = new ReadShareGroupStateSummaryRequest();
                r.groupId = groupId;
                byTopic.forEach((topicId, ps) -> {
                    ReadShareGroupStateSummaryRequest.ReadStateSummaryData t =
                            new ReadShareGroupStateSummaryRequest.ReadStateSummaryData();
                    t.topicId = topicId;
                    for (Part p : ps) {
                        ReadShareGroupStateSummaryRequest.PartitionData d =
                                new ReadShareGroupStateSummaryRequest.PartitionData();
                        d.partition = p.partition();
                        d.leaderEpoch = p.leaderEpoch();
                        t.partitions.add(d);
                    }
                    r.topics.add(t);
                });
                return r;
            }
            default -> throw new IllegalArgumentException(rpc.name());
        }
    }

    /** Every share-partition's result in an answer to {@code rpc}. */
    static List<Result> results(Rpc rpc, ApiMessage response) {
        List<Result> results = new ArrayList<>();
        switch (rpc) {
            case INITIALIZE -> {
                for (InitializeShareGroupStateResponse.InitializeStateResult t :
                        ((InitializeShareGroupStateResponse) response).results) {
                    for (InitializeShareGroupStateResponse.PartitionResult p : t.partitions) {
                        results.add(new Result(t.topicId, p.partition, p.errorCode, p.errorMessage, null));
                    }
                }
            }
            case READ -> {
                for (ReadShareGroupStateResponse.ReadStateResult t : ((ReadShareGroupStateResponse) response).results) {
                    for (ReadShareGroupStateResponse.PartitionResult p : t.partitions) {
                        List<ShareStateBatch> batches = new ArrayList<>();
                        for (ReadShareGroupStateResponse.StateBatch b : p.stateBatches) {
                            batches.add(new ShareStateBatch(b.firstOffset, b.lastOffset, b.deliveryState,
                                    b.deliveryCount));
                        }
                        results.add(new Result(t.topicId, p.partition, p.errorCode, p.errorMessage,
                                new SharePersister.Stored(p.stateEpoch, p.startOffset, List.copyOf(batches))));
                    }
                }
            }
            case WRITE -> {
                for (WriteShareGroupStateResponse.WriteStateResult t : ((WriteShareGroupStateResponse) response).results) {
                    for (WriteShareGroupStateResponse.PartitionResult p : t.partitions) {
                        results.add(new Result(t.topicId, p.partition, p.errorCode, p.errorMessage, null));
                    }
                }
            }
            case DELETE -> {
                for (DeleteShareGroupStateResponse.DeleteStateResult t :
                        ((DeleteShareGroupStateResponse) response).results) {
                    for (DeleteShareGroupStateResponse.PartitionResult p : t.partitions) {
                        results.add(new Result(t.topicId, p.partition, p.errorCode, p.errorMessage, null));
                    }
                }
            }
            case SUMMARY -> {
                for (ReadShareGroupStateSummaryResponse.ReadStateSummaryResult t :
                        ((ReadShareGroupStateSummaryResponse) response).results) {
                    for (ReadShareGroupStateSummaryResponse.PartitionResult p : t.partitions) {
                        results.add(new Result(t.topicId, p.partition, p.errorCode, p.errorMessage,
                                new SharePersister.Stored(p.stateEpoch, p.startOffset, List.of(),
                                        p.deliveryCompleteCount, p.leaderEpoch)));
                    }
                }
            }
            default -> throw new IllegalArgumentException(rpc.name());
        }
        return results;
    }
}
