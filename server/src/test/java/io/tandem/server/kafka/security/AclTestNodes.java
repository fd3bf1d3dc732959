package io.tandem.server.kafka.security;

import io.tandem.server.TandemConfig;

/**
 * The node settings the ACL tests share: a PLAINTEXT inter-broker listener whose User:ANONYMOUS is a super user (as
 * Apache deployments with plaintext inter-broker traffic configure it), and a SASL_PLAINTEXT listener with PLAIN users
 * {@code <name>} / {@code <name>-secret}; Kafka 3.9's AclAuthorizer with {@code admin} as a super user.
 */
public final class AclTestNodes {
    private AclTestNodes() {
    }

    /** {@code users} always include admin; each one's password is its name followed by "-secret". */
    public static TandemConfig withPlainUsersAndAcls(TandemConfig config, String... users) {
        StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
        for (String user : users) jaas.append(" user_").append(user).append("=\"").append(user).append("-secret\"");
        jaas.append(" user_admin=\"admin-secret\";");
        return config
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas.toString())
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                .set("super.users", "User:admin;User:ANONYMOUS");
    }
}
