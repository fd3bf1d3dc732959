package io.tandem.kafka.wire.acl;

import java.util.Locale;

/** Kafka's SecurityUtils.toPascalCase: how enum names are written in ACL znodes ("CLUSTER_ACTION" to "ClusterAction"). */
final class AclNames {
    private AclNames() {
    }

    static String camel(String upperSnake) {
        StringBuilder b = new StringBuilder();
        boolean upper = true;
        for (char c : upperSnake.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                b.append(upper ? c : Character.toLowerCase(c));
                upper = false;
            }
        }
        return b.toString();
    }

    static String plain(String name) {
        return name.replace("_", "").toUpperCase(Locale.ROOT);
    }
}
