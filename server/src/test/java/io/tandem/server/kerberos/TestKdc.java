package io.tandem.server.kerberos;

import io.tandem.server.TestPorts;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import javax.security.auth.Subject;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import org.apache.kerby.kerberos.kerb.KrbException;
import org.apache.kerby.kerberos.kerb.server.KdcConfig;
import org.apache.kerby.kerberos.kerb.server.KdcConfigKey;
import org.apache.kerby.kerberos.kerb.server.SimpleKdcServer;

/**
 * A Kerberos KDC in the test JVM (Apache Kerby's SimpleKdcServer, as Kafka's and ZooKeeper's MiniKdc), with
 * principals and keytabs made on demand, for the SASL GSSAPI tests of both protocols.
 *
 * <p>One per JVM, started on first use and stopped when the JVM exits: the JDK reads {@code java.security.krb5.conf}
 * once per JVM (sun.security.krb5.Config caches it, and its refresh() is not exported to us on JDK 17), so a second
 * KDC on another port would never be seen by the Kerberos client. Surefire runs each fork's classes one after
 * another in one JVM, so every Kerberos test class of a fork shares this KDC; each makes principals of its own names.
 * An earlier class of the fork may have made the JDK read its Kerberos configuration already (any Kerberos login,
 * even a failing one, does): the KDC's first login asks Krb5LoginModule to {@code refreshKrb5Config}, the supported
 * way to make the JDK read the file again, and proves the KDC answers.
 *
 * <p>The krb5.conf is ours, not Kerby's template: TCP only (no UDP port to collide with the other fork), and no DNS
 * canonicalisation of host names, so a client asking for {@code kafka/localhost} gets exactly that principal's ticket
 * on any machine's resolver. It names a relay in front of Kerby ({@link KdcRelay}) that counts each principal's
 * logins, so a test can check how many times a server logged in ({@link #logins}).
 */
public final class TestKdc {
    public static final String REALM = "EXAMPLE.COM";
    /** The host part of service principals; clients must reach servers by this name. */
    public static final String HOST = "localhost";
    private static TestKdc shared;

    private final SimpleKdcServer kdc;
    private final KdcRelay relay;
    private final Path dir;
    private final Path krb5Conf;
    private int keytabs;

    private TestKdc(SimpleKdcServer kdc, KdcRelay relay, Path dir, Path krb5Conf) {
        this.kdc = kdc;
        this.relay = relay;
        this.dir = dir;
        this.krb5Conf = krb5Conf;
    }

    /** The JVM's KDC, started (and java.security.krb5.conf pointed at it) on first use. */
    public static synchronized TestKdc shared() throws IOException {
        if (shared != null) return shared;
        Path dir = Files.createTempDirectory("tandem-kdc");
        int port = TestPorts.freePort();
        Path krb5Conf = dir.resolve("krb5.conf");
        String configured = System.getProperty("java.security.krb5.conf");
        if (configured != null && !configured.equals(krb5Conf.toString())) {
            throw new IllegalStateException("java.security.krb5.conf is already set to " + configured
                    + ": the JDK would not see this KDC");
        }
        try {
            SimpleKdcServer kdc = new SimpleKdcServer();
            kdc.setWorkDir(dir.toFile());
            kdc.setKdcHost(HOST);
            kdc.setKdcRealm(REALM);
            kdc.setAllowUdp(false);
            kdc.setAllowTcp(true);
            kdc.setKdcTcpPort(port);
            kdc.init();
            kdc.start();
            // Clients reach the KDC through a relay that counts their logins (logins(principal)).
            KdcRelay relay = new KdcRelay(java.net.InetAddress.getByName(HOST), port);
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
                    "        kdc = " + HOST + ":" + relay.port(),
                    "    }", ""), StandardCharsets.UTF_8);
            System.setProperty("java.security.krb5.conf", krb5Conf.toString());
            TestKdc started = new TestKdc(kdc, relay, dir, krb5Conf);
            started.probe();
            shared = started;
            Runtime.getRuntime().addShutdownHook(new Thread(shared::stop, "test-kdc-stop"));
            return shared;
        } catch (KrbException e) {
            throw new IOException("the test KDC did not start on port " + port, e);
        }
    }

    /**
     * The krb5.conf this JVM reads ({@code java.security.krb5.conf}), for another JVM to reach the same KDC (an
     * Apache broker in a differential test); it names the relay, which lives as long as this JVM.
     */
    public Path krb5Conf() {
        return krb5Conf;
    }

    /**
     * How many Kerberos logins {@code principal} (with its realm) made so far: AS exchanges the KDC answered with a
     * ticket-granting ticket.
     */
    public int logins(String principal) {
        return relay.logins(principal);
    }

    /** {@code name@REALM}. */
    public static String principal(String name) {
        return name + "@" + REALM;
    }

    /** {@code service/localhost@REALM}, a service principal of this machine. */
    public static String servicePrincipal(String service) {
        return service + "/" + HOST + "@" + REALM;
    }

    /**
     * Creates the principals (names with or without the realm; one that exists is kept) with random keys and writes
     * their keys, and only theirs, to a new keytab, whose path is returned. (Kerby's createAndExportPrincipals would
     * write every principal of the KDC, so a server's keytab could read tickets for services it must not hold.)
     */
    public synchronized Path keytab(String... principals) throws IOException {
        File keytab = dir.resolve("keytab-" + (++keytabs) + ".keytab").toFile();
        java.util.List<String> names = new java.util.ArrayList<>();
        for (String principal : principals) names.add(principal.contains("@") ? principal : principal(principal));
        try {
            // A principal another test class of this JVM already made (one KDC per JVM) is exported as it is:
            // creating it again fails, and new keys would invalidate the other class's keytab.
            java.util.List<String> existing = kdc.getKadmin().getPrincipals();
            for (String name : names) {
                if (!existing.contains(name)) kdc.createPrincipal(name);
            }
            kdc.getKadmin().exportKeytab(keytab, names);
        } catch (KrbException e) {
            throw new IOException("cannot create principals " + String.join(", ", principals), e);
        }
        return keytab.toPath();
    }

    /**
     * Tickets issued from now on last at most {@code lifetime} (Kerby's maximum_ticket_lifetime, read by the KDC at
     * every request) until the returned handle is closed, which restores the previous maximum. Kerberos test classes
     * of a fork run one after another, so only the caller's logins get short tickets.
     */
    public synchronized AutoCloseable ticketLifetime(java.time.Duration lifetime) {
        KdcConfig config = kdc.getKdcConfig();
        long previous = config.getMaximumTicketLifetime();
        config.setLong(KdcConfigKey.MAXIMUM_TICKET_LIFETIME, lifetime.toSeconds());
        return () -> {
            synchronized (TestKdc.this) {
                config.setLong(KdcConfigKey.MAXIMUM_TICKET_LIFETIME, previous);
            }
        };
    }

    /** A Krb5LoginModule JAAS entry's options that log {@code principal} in from {@code keytab}, in Kafka's syntax. */
    public static String krb5LoginModule(Path keytab, String principal) {
        return "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab=\""
                + keytab + "\" principal=\"" + principal + "\";";
    }

    /** Logs a new principal in from its keytab, reloading the JDK's Kerberos configuration first. */
    private void probe() throws IOException {
        String principal = principal("test-kdc-probe");
        Path keytab = keytab(principal);
        Map<String, String> options = Map.of("refreshKrb5Config", "true", "useKeyTab", "true", "storeKey", "false",
                "doNotPrompt", "true", "keyTab", keytab.toString(), "principal", principal);
        try {
            LoginContext login = new LoginContext("test-kdc-probe", new Subject(), null, loginModule(options));
            login.login();
            login.logout();
        } catch (LoginException e) {
            throw new IOException("the test KDC does not answer a keytab login", e);
        }
    }

    /** A JAAS configuration of one required Krb5LoginModule with these options, whatever the entry's name. */
    public static Configuration loginModule(Map<String, String> options) {
        return new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return new AppConfigurationEntry[] {new AppConfigurationEntry(
                        "com.sun.security.auth.module.Krb5LoginModule",
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
            }
        };
    }

    private void stop() {
        try {
            kdc.stop();
        } catch (KrbException ignored) {
            // the JVM is exiting
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // a temp directory left behind
        }
    }
}
