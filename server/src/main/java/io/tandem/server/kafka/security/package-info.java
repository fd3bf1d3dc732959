/**
 * Kafka listener security: TLS contexts from Kafka's ssl.* keys, SASL GSSAPI (Kerberos, with io.tandem.server.kerberos),
 * PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER servers and the
 * per-connection authentication state machine (SaslHandshake, SaslAuthenticate, raw v0 tokens), and SCRAM
 * credentials kept as Kafka 3.9 keeps them in ZooKeeper, the encryption of dynamic password configs as Kafka 3.9's
 * PasswordEncoder ({@link io.tandem.server.kafka.security.PasswordEncoder}), and the listeners' reloadable TLS
 * contexts, the inter-broker client's included ({@link io.tandem.server.kafka.security.ReloadableSslContext}). It knows nothing of Netty channels (the network package
 * wires it in) and encodes no Kafka bytes (kafka-wire does).
 */
package io.tandem.server.kafka.security;
