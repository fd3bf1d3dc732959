package io.tandem.compat.kafka.differential;

import static io.tandem.compat.kafka.ApacheKafkaLauncher.freePort;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import org.apache.kerby.kerberos.kerb.KrbException;
import org.apache.kerby.kerberos.kerb.server.SimpleKdcServer;

/**
 * A Kerberos KDC in the test JVM (Apache Kerby's SimpleKdcServer, as Kafka's MiniKdc) for the GSSAPI differential
 * test: Tandem and the clients run in this JVM and read {@link #krb5Conf()} through {@code java.security.krb5.conf};
 * Apache's broker, a separate JVM, is given the same file. Server's TestKdc is test code of another module, so this
 * is its small twin: TCP only, no DNS canonicalisation (a client asking for {@code kafka/localhost} gets exactly that
 * principal's ticket on any resolver), keytabs holding only the principals asked for.
 *
 * <p>The JDK reads {@code java.security.krb5.conf} once per JVM, so one KDC serves the whole JVM: the compat tests
 * run their classes one after another in one fork. In case an earlier class made the JDK read its Kerberos
 * configuration already (any Kerberos login does), the KDC's first login asks Krb5LoginModule to
 * {@code refreshKrb5Config}, and proves the KDC answers.
 */
final class DifferentialKdc {
    static final String REALM = "EXAMPLE.COM";
    /** The host part of service principals; clients must reach the brokers by this name. */
    static final String HOST = "localhost";
    private static DifferentialKdc shared;

    private final SimpleKdcServer kdc;
    private final Path dir;
    private final Path krb5Conf;
    private int keytabs;

    private DifferentialKdc(SimpleKdcServer kdc, Path dir, Path krb5Conf) {
        this.kdc = kdc;
        this.dir = dir;
        this.krb5Conf = krb5Conf;
    }

    static synchronized DifferentialKdc shared() throws IOException {
        if (shared != null) return shared;
        Path dir = Files.createTempDirectory("tandem-differential-kdc");
        Path krb5Conf = dir.resolve("krb5.conf");
        String configured = System.getProperty("java.security.krb5.conf");
        if (configured != null) {
            throw new IllegalStateException("java.security.krb5.conf is already " + configured
                    + ": the JDK would not see this KDC");
        }
        int port = freePort();
        SimpleKdcServer kdc;
        try {
            kdc = new SimpleKdcServer();
            kdc.setWorkDir(dir.toFile());
            kdc.setKdcHost(HOST);
            kdc.setKdcRealm(REALM);
            kdc.setAllowUdp(false);
            kdc.setAllowTcp(true);
            kdc.setKdcTcpPort(port);
            kdc.init();
            kdc.start();
            Files.writeString(krb5Conf, String.join("\n",
                    "[libdefaults]",
                    "    default_realm = " + REALM,
                    "    udp_preference_limit = 1",
                    "    dns_lookup_kdc = false",
                    "    dns_lookup_realm = false",
                    "    dns_canonicalize_hostname = false",
                    "    rdns = false",
                    "[realms]",
                    "    " + REALM + " = {",
                    "        kdc = " + HOST + ":" + port,
                    "    }", ""), StandardCharsets.UTF_8);
        } catch (KrbException e) {
            throw new IOException("the differential KDC did not start on port " + port, e);
        }
        System.setProperty("java.security.krb5.conf", krb5Conf.toString());
        DifferentialKdc started = new DifferentialKdc(kdc, dir, krb5Conf);
        started.probe();
        shared = started;
        return shared;
    }

    /** Logs a new principal in from its keytab, reloading the JDK's Kerberos configuration first. */
    private void probe() throws IOException {
        String principal = principal("differential-kdc-probe");
        Map<String, String> options = Map.of("refreshKrb5Config", "true", "useKeyTab", "true", "storeKey", "false",
                "doNotPrompt", "true", "keyTab", keytab(principal).toString(), "principal", principal);
        try {
            LoginContext login = new LoginContext("differential-kdc-probe", new Subject(), null, loginModule(options));
            login.login();
            login.logout();
        } catch (LoginException e) {
            throw new IOException("the differential KDC does not answer a keytab login", e);
        }
    }

    /** A JAAS configuration of one required Krb5LoginModule with these options, whatever the entry's name. */
    static Configuration loginModule(Map<String, String> options) {
        return new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return new AppConfigurationEntry[] {new AppConfigurationEntry(
                        "com.sun.security.auth.module.Krb5LoginModule",
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
            }
        };
    }

    Path krb5Conf() {
        return krb5Conf;
    }

    static String principal(String name) {
        return name + "@" + REALM;
    }

    /** {@code service/localhost@REALM}. */
    static String servicePrincipal(String service) {
        return service + "/" + HOST + "@" + REALM;
    }

    /** Creates the principals with random keys and writes their keys, and only theirs, to a new keytab. */
    synchronized Path keytab(String... principals) throws IOException {
        File keytab = dir.resolve("keytab-" + (++keytabs) + ".keytab").toFile();
        List<String> names = new ArrayList<>(List.of(principals));
        try {
            for (String name : names) kdc.createPrincipal(name);
            kdc.getKadmin().exportKeytab(keytab, names);
        } catch (KrbException e) {
            throw new IOException("cannot create principals " + names, e);
        }
        return keytab.toPath();
    }

    /** A Krb5LoginModule JAAS entry logging {@code principal} in from {@code keytab}, in Kafka's syntax. */
    static String krb5LoginModule(Path keytab, String principal) {
        return "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab=\""
                + keytab + "\" principal=\"" + principal + "\";";
    }
}
