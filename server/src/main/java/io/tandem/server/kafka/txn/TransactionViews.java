package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.message.DescribeTransactionsResponse;
import io.tandem.kafka.wire.message.ListTransactionsResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.txn.TransactionStateManager.Lookup;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import static io.tandem.server.kafka.ErrorCodes.*;

/** The read-only views of the coordinator's transactions: DescribeTransactions and ListTransactions. */
public final class TransactionViews {
    private final TransactionStateManager state;
    private final LongSupplier clock;

    TransactionViews(TransactionStateManager state, LongSupplier clock) {
        this.state = state;
        this.clock = clock;
    }

    /** DescribeTransactions for one id (Kafka's handleDescribeTransactions). */
    public DescribeTransactionsResponse.TransactionState describe(String transactionalId) {
        DescribeTransactionsResponse.TransactionState result = new DescribeTransactionsResponse.TransactionState();
        result.transactionalId = transactionalId;
        if (transactionalId == null || transactionalId.isEmpty()) {
            result.errorCode = INVALID_REQUEST;
            return result;
        }
        Lookup lookup = state.lookup(transactionalId);
        if (lookup.error() != NONE) {
            result.errorCode = lookup.error();
            return result;
        }
        synchronized (state) {
            TransactionMetadata m = lookup.found() == null ? null : lookup.found().metadata();
            if (m == null || m.state == TransactionState.DEAD) {
                result.errorCode = TRANSACTIONAL_ID_NOT_FOUND;
                return result;
            }
            Map<String, DescribeTransactionsResponse.TopicData> topics = new LinkedHashMap<>();
            for (TopicPartition tp : m.topicPartitions) {
                topics.computeIfAbsent(tp.topic(), name -> {
                    DescribeTransactionsResponse.TopicData t = new DescribeTransactionsResponse.TopicData();
                    t.topic = name;
                    return t;
                }).partitions.add(tp.partition());
            }
            result.topics.addAll(topics.values());
            result.errorCode = NONE;
            result.producerId = m.producerId;
            result.producerEpoch = m.producerEpoch;
            result.transactionState = m.state.displayName;
            result.transactionTimeoutMs = m.txnTimeoutMs;
            result.transactionStartTimeMs = m.txnStartTimestamp;
        }
        return result;
    }

    /**
     * ListTransactions (Kafka's listTransactionStates): every transactional id this broker coordinates but the Dead
     * ones, filtered by producer id, state name, open longer than {@code durationFilterMs} (when not negative) and
     * a Java regular expression on the id (v2; an invalid one is INVALID_REGULAR_EXPRESSION); unknown state names
     * are reported back. COORDINATOR_LOAD_IN_PROGRESS while a state partition loads.
     */
    public ListTransactionsResponse list(List<String> stateFilters, List<Long> producerIdFilters, long durationFilterMs,
                                         String transactionalIdPattern) {
        ListTransactionsResponse response = new ListTransactionsResponse();
        Pattern pattern = null;
        if (transactionalIdPattern != null && !transactionalIdPattern.isEmpty()) {
            try {
                pattern = Pattern.compile(transactionalIdPattern);
            } catch (PatternSyntaxException e) {
                response.errorCode = INVALID_REGULAR_EXPRESSION;
                return response;
            }
        }
        List<TransactionMetadata> all = state.allOrNullWhileLoading();
        if (all == null) {
            response.errorCode = COORDINATOR_LOAD_IN_PROGRESS;
            return response;
        }
        Set<TransactionState> states = java.util.EnumSet.noneOf(TransactionState.class);
        for (String name : stateFilters) {
            TransactionState s = TransactionState.fromName(name);
            if (s == null) {
                response.unknownStateFilters.add(name);
            } else {
                states.add(s);
            }
        }
        long now = clock.getAsLong();
        synchronized (state) {
            for (TransactionMetadata m : all) {
                if (m.state == TransactionState.DEAD) continue;
                if (!producerIdFilters.isEmpty() && !producerIdFilters.contains(m.producerId)) continue;
                if (!states.isEmpty() && !states.contains(m.state)) continue;
                if (durationFilterMs >= 0 && now - m.txnStartTimestamp <= durationFilterMs) continue;
                if (pattern != null && !pattern.matcher(m.transactionalId).matches()) continue;
                ListTransactionsResponse.TransactionState t = new ListTransactionsResponse.TransactionState();
                t.transactionalId = m.transactionalId;
                t.producerId = m.producerId;
                t.transactionState = m.state.displayName;
                response.transactionStates.add(t);
            }
        }
        response.errorCode = NONE;
        return response;
    }
}
