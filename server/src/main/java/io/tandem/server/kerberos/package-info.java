/**
 * Kerberos for the SASL GSSAPI servers of both protocols (Kafka listeners in io.tandem.server.kafka.security, the
 * ZooKeeper client port in io.tandem.server.zookeeper): the server's login from a keytab through the JDK's
 * Krb5LoginModule ({@link io.tandem.server.kerberos.KerberosLogin}), renewed as Kafka's KerberosLogin and ZooKeeper's
 * Login renew theirs ({@link io.tandem.server.kerberos.RenewingLogin}, {@link io.tandem.server.kerberos.RenewalPolicy}),
 * the JDK's GSSAPI SaslServer created as that
 * login ({@link io.tandem.server.kerberos.GssapiServers}), and the names Apache derives from an authenticated
 * principal ({@link io.tandem.server.kerberos.KerberosName}, the auth_to_local rules of
 * {@link io.tandem.server.kerberos.PrincipalToLocalRules}), and the initiators' logins (the broker's ZooKeeper client,
 * the inter-broker client, the command line), renewed by the same scheduler. A Kafka listener's login is shared with
 * every other user of the same options (the inter-broker client above all), as Kafka's LoginManager shares it
 * ({@link io.tandem.server.kerberos.SharedLogin}). The Kerberos protocol itself is the JDK's; nothing here touches a
 * socket or a Netty channel.
 */
package io.tandem.server.kerberos;
