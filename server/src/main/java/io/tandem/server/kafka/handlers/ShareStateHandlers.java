package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
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
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator.Key;
import io.tandem.server.kafka.network.ApiHandler;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The share coordinator's APIs (KIP-932's persister, inter-broker: CLUSTER_ACTION on the cluster):
 * InitializeShareGroupState (83), ReadShareGroupState (84), WriteShareGroupState (85), DeleteShareGroupState (86) and
 * ReadShareGroupStateSummary (87), answered per share-partition by the {@link ShareStateCoordinator} as Kafka 4.4's
 * ShareCoordinatorService answers: a request with an empty group id, no topics or a topic without partitions gets
 * no results; a share-partition whose state partition is not led here is NOT_COORDINATOR ("Unable to read share
 * group state: This is not the correct coordinator." for reads, likewise for writes). One class: five small APIs
 * over one coordinator.
 */
final class ShareStateHandlers {
    private ShareStateHandlers() {
    }

    /**
     * Kafka's check: CLUSTER_ACTION on the cluster; refused, every partition of the request answers
     * CLUSTER_AUTHORIZATION_FAILED ("Cluster authorization failed.") and nothing is done.
     */
    private static ApiException refusal(KafkaBroker broker, RequestContext context) {
        return broker.authorization().allowedOnCluster(context, AclOperation.CLUSTER_ACTION) ? null
                : new ApiException(CLUSTER_AUTHORIZATION_FAILED, Errors.CLUSTER_AUTHORIZATION_FAILED.message());
    }

    /**
     * The answers wait until the records each operation depends on are in the ISR (Kafka's CoordinatorRuntime
     * completes a write once the high watermark passes it, and a read once no write it saw is pending): a
     * share-partition's leader told NONE must never have its state lost with the state partition's leader.
     */
    private static final class Commits {
        private record Wait(ShareStateCoordinator.Commit commit, Runnable done, ErrorSink failed) {
        }

        private final KafkaBroker broker;
        private final String operation;
        private final List<Wait> waits = new ArrayList<>();

        Commits(KafkaBroker broker, String operation) {
            this.broker = broker;
            this.operation = operation;
        }

        /** Once {@code commit} is replicated, {@code done} runs (if any); else {@code failed} gets the error. */
        void add(ShareStateCoordinator.Commit commit, Runnable done, ErrorSink failed) {
            waits.add(new Wait(commit, done, failed));
        }

        /** Sends the response once every commit was replicated or failed. */
        void thenSend(Runnable send) {
            if (waits.isEmpty()) {
                send.run();
                return;
            }
            AtomicInteger left = new AtomicInteger(waits.size());
            for (Wait wait : waits) {
                broker.shareState().whenCommitted(wait.commit()).whenComplete((ok, e) -> {
                    if (e == null) {
                        if (wait.done() != null) wait.done().run();
                    } else {
                        ApiException error = e instanceof ApiException api ? api
                                : new ApiException(UNKNOWN_SERVER_ERROR, String.valueOf(e.getMessage()));
                        wait.failed().accept(error.error(), message(error, operation));
                    }
                    // The decrement publishes this partition's result to the thread that sends.
                    if (left.decrementAndGet() == 0) send.run();
                });
            }
        }
    }

    private interface ErrorSink {
        void accept(short error, String message);
    }

    /** Kafka's message for an error that stopped the operation itself (as opposed to a refusal by the shard). */
    private static String message(ApiException e, String operation) {
        boolean operational = e.error() == NOT_COORDINATOR || e.error() == COORDINATOR_NOT_AVAILABLE
                || e.error() == COORDINATOR_LOAD_IN_PROGRESS || e.error() == REQUEST_TIMED_OUT
                || e.error() == KAFKA_STORAGE_ERROR;
        String text = e.getMessage() != null ? e.getMessage() : Errors.forCode(e.error()).message();
        return operational && operation != null ? "Unable to " + operation + " share group state: " + text : text;
    }

    /**
     * Kafka 4.4's ShareCoordinatorService answers an empty response, touching nothing, to a request with an empty
     * group id, no topics, or a topic without partitions (any one of them). KafkaApis refuses an unauthorized request
     * before that (every partition CLUSTER_AUTHORIZATION_FAILED, empty group id or not), so callers check this after
     * the refusal.
     */
    private static <T> boolean nothingToDo(String groupId, List<T> topics, Function<T, List<?>> partitions) {
        if (groupId == null || groupId.isEmpty() || topics.isEmpty()) return true;
        for (T topic : topics) {
            if (partitions.apply(topic).isEmpty()) return true;
        }
        return false;
    }

    static ApiHandler<InitializeShareGroupStateRequest> initialize(KafkaBroker broker) {
        return (context, request, responder) -> {
            InitializeShareGroupStateResponse response = new InitializeShareGroupStateResponse();
            ApiException refused = refusal(broker, context);
            if (refused == null && nothingToDo(request.groupId, request.topics, t -> t.partitions)) {
                responder.send(response);
                return;
            }
            Commits commits = new Commits(broker, "initialize");
            for (InitializeShareGroupStateRequest.InitializeStateData t : request.topics) {
                InitializeShareGroupStateResponse.InitializeStateResult rt =
                        new InitializeShareGroupStateResponse.InitializeStateResult();
                rt.topicId = t.topicId;
                for (InitializeShareGroupStateRequest.PartitionData p : t.partitions) {
                    InitializeShareGroupStateResponse.PartitionResult rp =
                            new InitializeShareGroupStateResponse.PartitionResult();
                    rp.partition = p.partition;
                    try {
                        if (refused != null) throw refused;
                        commits.add(broker.shareState().initialize(new Key(request.groupId, t.topicId, p.partition),
                                p.stateEpoch, p.startOffset), null, (error, text) -> {
                                    rp.errorCode = error;
                                    rp.errorMessage = text;
                                });
                    } catch (ApiException e) {
                        rp.errorCode = e.error();
                        rp.errorMessage = message(e, "initialize");
                    }
                    rt.partitions.add(rp);
                }
                if (!rt.partitions.isEmpty()) response.results.add(rt);
            }
            commits.thenSend(() -> responder.send(response));
        };
    }

    static ApiHandler<ReadShareGroupStateRequest> read(KafkaBroker broker) {
        return (context, request, responder) -> {
            ReadShareGroupStateResponse response = new ReadShareGroupStateResponse();
            ApiException refused = refusal(broker, context);
            if (refused == null && nothingToDo(request.groupId, request.topics, t -> t.partitions)) {
                responder.send(response);
                return;
            }
            Commits commits = new Commits(broker, "read");
            for (ReadShareGroupStateRequest.ReadStateData t : request.topics) {
                ReadShareGroupStateResponse.ReadStateResult rt = new ReadShareGroupStateResponse.ReadStateResult();
                rt.topicId = t.topicId;
                for (ReadShareGroupStateRequest.PartitionData p : t.partitions) {
                    ReadShareGroupStateResponse.PartitionResult rp = new ReadShareGroupStateResponse.PartitionResult();
                    rp.partition = p.partition;
                    try {
                        if (refused != null) throw refused;
                        ShareStateCoordinator.State s = broker.shareState().read(
                                new Key(request.groupId, t.topicId, p.partition), p.leaderEpoch);
                        // Answered only once the state read is committed: it may include writes not yet
                        // replicated, which a new share coordinator would not have, and "uninitialized" may be a
                        // tombstone not yet replicated.
                        commits.add(s.commit(), () -> {
                            if (!s.initialized()) {
                                rp.errorCode = INVALID_REQUEST;
                                rp.errorMessage = ShareStateCoordinator.READ_UNINITIALIZED_MESSAGE;
                                return;
                            }
                            rp.stateEpoch = s.stateEpoch();
                            rp.startOffset = s.startOffset();
                            for (ShareStateBatch b : s.stateBatches()) {
                                ReadShareGroupStateResponse.StateBatch wire =
                                        new ReadShareGroupStateResponse.StateBatch();
                                wire.firstOffset = b.firstOffset();
                                wire.lastOffset = b.lastOffset();
                                wire.deliveryState = b.deliveryState();
                                wire.deliveryCount = b.deliveryCount();
                                rp.stateBatches.add(wire);
                            }
                        }, (error, text) -> {
                            rp.errorCode = error;
                            rp.errorMessage = text;
                        });
                    } catch (ApiException e) {
                        rp.errorCode = e.error();
                        rp.errorMessage = message(e, "read");
                    }
                    rt.partitions.add(rp);
                }
                if (!rt.partitions.isEmpty()) response.results.add(rt);
            }
            commits.thenSend(() -> responder.send(response));
        };
    }

    static ApiHandler<WriteShareGroupStateRequest> write(KafkaBroker broker) {
        return (context, request, responder) -> {
            WriteShareGroupStateResponse response = new WriteShareGroupStateResponse();
            ApiException refused = refusal(broker, context);
            if (refused == null && nothingToDo(request.groupId, request.topics, t -> t.partitions)) {
                responder.send(response);
                return;
            }
            Commits commits = new Commits(broker, "write");
            for (WriteShareGroupStateRequest.WriteStateData t : request.topics) {
                WriteShareGroupStateResponse.WriteStateResult rt = new WriteShareGroupStateResponse.WriteStateResult();
                rt.topicId = t.topicId;
                for (WriteShareGroupStateRequest.PartitionData p : t.partitions) {
                    WriteShareGroupStateResponse.PartitionResult rp = new WriteShareGroupStateResponse.PartitionResult();
                    rp.partition = p.partition;
                    try {
                        if (refused != null) throw refused;
                        List<ShareStateBatch> batches = new ArrayList<>();
                        for (WriteShareGroupStateRequest.StateBatch b : p.stateBatches) {
                            if (b.lastOffset < b.firstOffset) {
                                throw new ApiException(INVALID_REQUEST, "Invalid state batch " + b.firstOffset + "-"
                                        + b.lastOffset + ".");
                            }
                            batches.add(new ShareStateBatch(b.firstOffset, b.lastOffset, b.deliveryState,
                                    b.deliveryCount));
                        }
                        commits.add(broker.shareState().write(new Key(request.groupId, t.topicId, p.partition),
                                p.stateEpoch, p.leaderEpoch, p.startOffset, p.deliveryCompleteCount, batches), null,
                                (error, text) -> {
                                    rp.errorCode = error;
                                    rp.errorMessage = text;
                                });
                    } catch (ApiException e) {
                        rp.errorCode = e.error();
                        rp.errorMessage = message(e, "write");
                    }
                    rt.partitions.add(rp);
                }
                if (!rt.partitions.isEmpty()) response.results.add(rt);
            }
            commits.thenSend(() -> responder.send(response));
        };
    }

    static ApiHandler<DeleteShareGroupStateRequest> delete(KafkaBroker broker) {
        return (context, request, responder) -> {
            DeleteShareGroupStateResponse response = new DeleteShareGroupStateResponse();
            ApiException refused = refusal(broker, context);
            if (refused == null && nothingToDo(request.groupId, request.topics, t -> t.partitions)) {
                responder.send(response);
                return;
            }
            Commits commits = new Commits(broker, "delete");
            for (DeleteShareGroupStateRequest.DeleteStateData t : request.topics) {
                DeleteShareGroupStateResponse.DeleteStateResult rt = new DeleteShareGroupStateResponse.DeleteStateResult();
                rt.topicId = t.topicId;
                for (DeleteShareGroupStateRequest.PartitionData p : t.partitions) {
                    DeleteShareGroupStateResponse.PartitionResult rp = new DeleteShareGroupStateResponse.PartitionResult();
                    rp.partition = p.partition;
                    try {
                        if (refused != null) throw refused;
                        commits.add(broker.shareState().delete(new Key(request.groupId, t.topicId, p.partition)),
                                null, (error, text) -> {
                                    rp.errorCode = error;
                                    rp.errorMessage = text;
                                });
                    } catch (ApiException e) {
                        rp.errorCode = e.error();
                        rp.errorMessage = message(e, "delete");
                    }
                    rt.partitions.add(rp);
                }
                if (!rt.partitions.isEmpty()) response.results.add(rt);
            }
            commits.thenSend(() -> responder.send(response));
        };
    }

    static ApiHandler<ReadShareGroupStateSummaryRequest> summary(KafkaBroker broker) {
        return (context, request, responder) -> {
            ReadShareGroupStateSummaryResponse response = new ReadShareGroupStateSummaryResponse();
            ApiException refused = refusal(broker, context);
            if (refused == null && nothingToDo(request.groupId, request.topics, t -> t.partitions)) {
                responder.send(response);
                return;
            }
            Commits commits = new Commits(broker, "read");
            for (ReadShareGroupStateSummaryRequest.ReadStateSummaryData t : request.topics) {
                ReadShareGroupStateSummaryResponse.ReadStateSummaryResult rt =
                        new ReadShareGroupStateSummaryResponse.ReadStateSummaryResult();
                rt.topicId = t.topicId;
                for (ReadShareGroupStateSummaryRequest.PartitionData p : t.partitions) {
                    ReadShareGroupStateSummaryResponse.PartitionResult rp =
                            new ReadShareGroupStateSummaryResponse.PartitionResult();
                    rp.partition = p.partition;
                    try {
                        if (refused != null) throw refused;
                        ShareStateCoordinator.State s = broker.shareState().summary(
                                new Key(request.groupId, t.topicId, p.partition));
                        commits.add(s.commit(), () -> {
                            rp.stateEpoch = s.stateEpoch();
                            rp.leaderEpoch = s.leaderEpoch();
                            rp.startOffset = s.startOffset();
                            rp.deliveryCompleteCount = s.deliveryCompleteCount();
                        }, (error, text) -> {
                            rp.errorCode = error;
                            rp.errorMessage = text;
                        });
                    } catch (ApiException e) {
                        rp.errorCode = e.error();
                        rp.errorMessage = message(e, "read");
                    }
                    rt.partitions.add(rp);
                }
                if (!rt.partitions.isEmpty()) response.results.add(rt);
            }
            commits.thenSend(() -> responder.send(response));
        };
    }
}
