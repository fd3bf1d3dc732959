package io.tandem.server.kafka.group;

/** The classic group states; {@link #toString()} gives the names Kafka reports in DescribeGroups and ListGroups. */
public enum GroupState {
    EMPTY("Empty"),
    PREPARING_REBALANCE("PreparingRebalance"),
    COMPLETING_REBALANCE("CompletingRebalance"),
    STABLE("Stable"),
    DEAD("Dead");

    private final String kafkaName;

    GroupState(String kafkaName) {
        this.kafkaName = kafkaName;
    }

    @Override
    public String toString() {
        return kafkaName;
    }
}
