package io.tandem.server.kafka.metadata;

/** Kafka's topic name rules (its {@code Topic.validate}): what CreateTopics answers INVALID_TOPIC_EXCEPTION for. */
public final class TopicNames {
    /** Kafka's limit: a topic name becomes a directory name with a partition suffix, which must fit in 255 bytes. */
    public static final int TOPIC_NAME_LENGTH_MAX = 249;
    public static final String CONSUMER_OFFSETS = "__consumer_offsets";
    public static final String TRANSACTION_STATE = "__transaction_state";
    public static final String SHARE_GROUP_STATE = "__share_group_state";

    private TopicNames() {
    }

    /**
     * Why the name is not a legal topic name, or {@code null} when it is, in the words Kafka's CreateTopics answers
     * with (3.9 and 4.x alike).
     */
    public static String invalidReason(String name) {
        if (name == null || name.isEmpty()) return "Topic name is invalid: the empty string is not allowed";
        if (name.equals(".") || name.equals("..")) return "Topic name is invalid: '" + name + "' is not allowed";
        if (name.length() > TOPIC_NAME_LENGTH_MAX) {
            return "Topic name is invalid: the length of '" + name + "' is longer than the max allowed length "
                    + TOPIC_NAME_LENGTH_MAX;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-';
            if (!legal) {
                return "Topic name is invalid: '" + name + "' contains one or more characters other than ASCII "
                        + "alphanumerics, '.', '_' and '-'";
            }
        }
        return null;
    }

    /**
     * Kafka's Topic.hasCollision: two names that differ only in '.' against '_' would share metric names, so a
     * topic may not be created beside another such (CreateTopics' INVALID_TOPIC_EXCEPTION, "collides with").
     */
    public static boolean collide(String a, String b) {
        return a.replace('.', '_').equals(b.replace('.', '_'));
    }

    /** Kafka's Topic.hasCollisionChars: only a name with '.' or '_' can collide with another. */
    public static boolean hasCollisionChars(String name) {
        return name.indexOf('.') >= 0 || name.indexOf('_') >= 0;
    }

    public static boolean isInternal(String name) {
        return CONSUMER_OFFSETS.equals(name) || TRANSACTION_STATE.equals(name) || SHARE_GROUP_STATE.equals(name);
    }
}
