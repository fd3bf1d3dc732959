package io.tandem.server.kerberos;

import io.tandem.server.TandemConfig;

import java.nio.file.Path;

/**
 * The test node GSSAPI tests start: a PLAINTEXT listener for the broker's own traffic and a SASL_PLAINTEXT one on
 * {@link TestKdc#HOST} (the host name the service principal names) where GSSAPI logs in as {@code service}'s principal
 * from {@code keytab}.
 */
public final class GssapiTestBroker {
    private GssapiTestBroker() {
    }

    /** The node in {@code dir}; a test adds its own settings (principal mapping, authorizer, ...). */
    public static TandemConfig config(Path dir, String service, Path keytab) {
        return TandemConfig.forTests(dir)
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://" + TestKdc.HOST + ":0")
                .set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "GSSAPI")
                .set("sasl.kerberos.service.name", service)
                .set("listener.name.sasl_plaintext.gssapi.sasl.jaas.config",
                        TestKdc.krb5LoginModule(keytab, TestKdc.servicePrincipal(service)));
    }
}
