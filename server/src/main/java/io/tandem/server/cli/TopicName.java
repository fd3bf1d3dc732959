package io.tandem.server.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** A topic given either as {@code --topic NAME} (as in Kafka's tools) or as the first argument. */
final class TopicName {
    @Option(names = "--topic", paramLabel = "TOPIC", description = "The topic.")
    String option;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TOPIC", description = "The topic (instead of --topic).")
    String positional;

    /** The topic, or null when neither form was given. */
    String orNull() {
        if (option != null && positional != null && !option.equals(positional)) {
            throw new IllegalArgumentException("two topics given: --topic " + option + " and " + positional);
        }
        return option != null ? option : positional;
    }

    String required() {
        String topic = orNull();
        if (topic == null || topic.isEmpty()) {
            throw new IllegalArgumentException("a topic is required (--topic NAME)");
        }
        return topic;
    }
}
