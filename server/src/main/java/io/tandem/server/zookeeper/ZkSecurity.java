package io.tandem.server.zookeeper;

import io.netty.handler.ssl.ClientAuth;
import io.tandem.server.ConfigException;
import io.tandem.server.kerberos.KerberosLogin;
import io.tandem.server.tls.PeerAddressTrustManager;
import io.tandem.server.tls.ReloadingServerTls;
import io.tandem.server.tls.ServerTls;
import io.tandem.server.tls.ZooKeeperTlsDefaults;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.security.URIParameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;

/**
 * How clients authenticate to the ZooKeeper server, read once at start-up as Apache 3.9 reads it: the authentication
 * providers registered by {@code authProvider.*} (digest and ip are always on; {@code sasl} and {@code x509} when
 * named), the JAAS file's {@code Server} section (DIGEST-MD5 users, or a Kerberos login from a keytab for GSSAPI,
 * {@link ZkKerberos}), {@code enforce.auth.*}, the super users of each scheme, and the TLS of the secure client
 * port. Each key is read from zoo.cfg first and then from Apache's system property ({@code zookeeper.<key>}), as
 * Apache turns zoo.cfg keys into system properties. Anything Tandem cannot do as configured (another login module,
 * say) is a start-up error naming it.
 */
final class ZkSecurity {
    static final String SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
    static final String X509_PROVIDER = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";
    static final String DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule";
    /** The JAAS file: the JVM's system property, or the same name as a Tandem configuration key. */
    static final String JAAS_FILE = "java.security.auth.login.config";
    /** Apache's system property naming the JAAS section of the server's login (default {@code Server}). */
    static final String SERVER_SECTION = "zookeeper.sasl.serverconfig";
    static final String NETTY_FACTORY = "org.apache.zookeeper.server.NettyServerCnxnFactory";
    /** Apache's SASLAuthenticationProvider.superPassword: the password of the DIGEST-MD5 user "super". */
    static final String SASL_SUPER_PASSWORD = "SASLAuthenticationProvider.superPassword";

    /** Apache 3.9's key (system property {@code zookeeper.client.certReload}): reload the secure port's stores. */
    static final String CERT_RELOAD = "client.certReload";

    static final ZkSecurity NONE = new ZkSecurity(null, null, null, null, false, false, Set.of(), Set.of(), null, null,
            false, null, -1);

    /** DIGEST-MD5 users and passwords from the JAAS Server section; null when SASL is not configured. */
    final Map<String, String> saslUsers;
    /**
     * The server's Kerberos login when the Server section has a Krb5LoginModule: SASL is then GSSAPI, as in Apache,
     * whose server offers GSSAPI alone once its login holds a Kerberos principal. Null otherwise.
     */
    final ZkKerberos kerberos;
    /**
     * The secure client port's own Kerberos login (null without a secure port or without Kerberos): Apache logs in
     * once per connection factory (ServerCnxnFactory.configureSaslLogin), and the secure port is a factory of its own,
     * so a server with both ports asks the KDC twice at start-up and renews two logins, as this one does.
     */
    private final ZkKerberos secureKerberos;
    final String saslSuperPassword;
    /** Whether the sasl and x509 ACL schemes are registered (authProvider.*). */
    final boolean saslScheme;
    final boolean x509Scheme;
    /** enforce.auth.schemes when enforce.auth.enabled: a connection needs an id of one of them before any request. */
    final Set<String> enforcedSchemes;
    /** zookeeper.superUser(.*): SASL users who are also super. */
    final Set<String> saslSuperUsers;
    /** X509AuthenticationProvider.superUser: the subject DN that is also super. */
    final String x509SuperUser;
    /** The secure client port's TLS, or null when there is no secure port. */
    final ReloadingServerTls tls;
    /**
     * Whether the secure port reloads its key and trust store files when they are written (ClientListener watches
     * them). Apache 3.9.5 serves the current files to new connections in two cases, measured side by side in
     * {@code ApacheSecurePortReloadDifferentialTest}: with client.certReload=true (NettyServerCnxnFactory starts
     * ClientX509Util's file watchers, which rebuild its context and re-register the x509 provider), and whenever
     * ssl.authProvider is unset, since its initSSL then reads both stores again for every accepted connection. Only
     * with ssl.authProvider set and client.certReload off does it keep the stores it started with (the provider's).
     */
    final boolean reloadStores;
    final String secureHost;
    final int securePort;

    private ZkSecurity(Map<String, String> saslUsers, ZkKerberos kerberos, ZkKerberos secureKerberos,
                       String saslSuperPassword,
                       boolean saslScheme, boolean x509Scheme,
                       Set<String> enforcedSchemes, Set<String> saslSuperUsers, String x509SuperUser,
                       ReloadingServerTls tls, boolean reloadStores, String secureHost, int securePort) {
        this.saslUsers = saslUsers;
        this.kerberos = kerberos;
        this.secureKerberos = secureKerberos;
        this.saslSuperPassword = saslSuperPassword;
        this.saslScheme = saslScheme;
        this.x509Scheme = x509Scheme;
        this.enforcedSchemes = enforcedSchemes;
        this.saslSuperUsers = saslSuperUsers;
        this.x509SuperUser = x509SuperUser;
        this.tls = tls;
        this.reloadStores = reloadStores;
        this.secureHost = secureHost;
        this.securePort = securePort;
    }

    /** The Kerberos login of the plain or of the secure client port's connections (null without Kerberos). */
    ZkKerberos kerberos(boolean securePort) {
        return securePort && secureKerberos != null ? secureKerberos : kerberos;
    }

    /** Whether ACL entries and addauth of {@code scheme} are served (Apache's ProviderRegistry). */
    boolean hasScheme(String scheme) {
        return switch (scheme) {
            case "digest", "ip" -> true;
            case "sasl" -> saslScheme;
            case "x509" -> x509Scheme;
            default -> false;
        };
    }

    /** Whether a connection holding {@code ids} may send requests (enforce.auth.enabled). */
    boolean admits(List<io.tandem.zk.wire.data.Id> ids) {
        if (enforcedSchemes.isEmpty()) return true;
        for (io.tandem.zk.wire.data.Id id : ids) {
            if (enforcedSchemes.contains(id.scheme())) return true;
        }
        return false;
    }

    /**
     * Reads the settings ({@code settings} are zoo.cfg's keys); {@code plainHost} is where the plain client port
     * binds, which the secure port shares unless secureClientPortAddress says otherwise.
     */
    static ZkSecurity from(Map<String, String> settings, String plainHost) {
        Function<String, String> get = key -> {
            String value = settings.get(key);
            if (value == null) value = System.getProperty("zookeeper." + key);
            return value == null ? null : value.trim();
        };
        List<String> errors = new ArrayList<>();
        Set<String> providers = new LinkedHashSet<>();
        Map<String, String> all = new LinkedHashMap<>();
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("zookeeper.authProvider."))
                .forEach(k -> all.put(k.substring("zookeeper.".length()), System.getProperty(k)));
        all.putAll(settings);
        all.forEach((key, value) -> {
            if (key.startsWith("authProvider.") && value != null) providers.add(value.trim());
        });
        boolean saslScheme = providers.contains(SASL_PROVIDER);
        boolean x509Scheme = providers.contains(X509_PROVIDER);

        Map<String, String> saslUsers = null;
        ZkKerberos kerberos = null;
        Map<String, ?> krb5 = null;
        try {
            AppConfigurationEntry[] section = serverSection(settings);
            if (section != null) {
                saslUsers = saslUsers(section);
                krb5 = kerberosOptions(section);
                if (krb5 != null) {
                    kerberos = ZkKerberos.login("the JAAS " + serverSectionName() + " section", krb5, get);
                }
            }
        } catch (IllegalArgumentException e) {
            errors.add(e.getMessage());
        }

        Set<String> enforced = new LinkedHashSet<>();
        if (Boolean.parseBoolean(get.apply("sessionRequireClientSASLAuth"))) {
            enforced.add("sasl");
        } else if (Boolean.parseBoolean(get.apply("enforce.auth.enabled"))) {
            String schemes = get.apply("enforce.auth.schemes");
            if (schemes != null) {
                Arrays.stream(schemes.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(enforced::add);
            }
            if (enforced.isEmpty()) {
                errors.add("zookeeper.enforce.auth.enabled is true zookeeper.enforce.auth.schemes must be configured.");
            }
        }
        ZkSecurity probe = new ZkSecurity(null, null, null, null, saslScheme, x509Scheme, Set.of(), Set.of(), null,
                null, false, null, -1);
        for (String scheme : enforced) {
            if (!probe.hasScheme(scheme)) errors.add("Authentication scheme " + scheme + " is not available.");
        }

        Set<String> superUsers = new LinkedHashSet<>();
        System.getProperties().stringPropertyNames().stream()
                .filter(k -> k.equals("zookeeper.superUser") || k.startsWith("zookeeper.superUser."))
                .forEach(k -> superUsers.add(System.getProperty(k)));
        settings.forEach((key, value) -> {
            if (key.equals("superUser") || key.startsWith("superUser.")) superUsers.add(value.trim());
        });

        ReloadingServerTls tls = null;
        int securePort = -1;
        String secureHost = null;
        String port = get.apply("secureClientPort");
        if (port != null) {
            try {
                securePort = Integer.parseInt(port);
                secureHost = get.apply("secureClientPortAddress") != null ? get.apply("secureClientPortAddress")
                        : plainHost;
                if (!NETTY_FACTORY.equals(get.apply("serverCnxnFactory"))) {
                    errors.add("secureClientPort needs serverCnxnFactory=" + NETTY_FACTORY
                            + " (Apache's NIO factory serves no TLS)");
                } else {
                    tls = new ReloadingServerTls(tlsSettings(get), clientHostCheck(get));
                }
            } catch (NumberFormatException e) {
                errors.add("Configuration key 'secureClientPort' (value '" + port + "') is not a number");
            } catch (IllegalArgumentException e) {
                errors.add("the secure client port: " + e.getMessage());
            }
        }
        ZkKerberos secureKerberos = null;
        if (errors.isEmpty() && kerberos != null && tls != null) {
            try {
                secureKerberos = ZkKerberos.login("the JAAS " + serverSectionName() + " section (secure client port)",
                        krb5, get);
            } catch (IllegalArgumentException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) throw new ConfigException(errors);
        return new ZkSecurity(saslUsers, kerberos, secureKerberos, get.apply(SASL_SUPER_PASSWORD), saslScheme, x509Scheme,
                Set.copyOf(enforced),
                Set.copyOf(superUsers), get.apply("X509AuthenticationProvider.superUser"), tls,
                // Apache reads client.certReload with Boolean.getBoolean: "true" in any case is on, anything else off.
                tls != null && (Boolean.parseBoolean(get.apply(CERT_RELOAD)) || get.apply("ssl.authProvider") == null),
                secureHost, securePort);
    }

    /**
     * The JAAS file's Server section (Apache's {@code zookeeper.sasl.serverconfig} names another), as Apache's
     * ServerCnxnFactory.configureSaslLogin reads it; null when there is no JAAS file or no such section (Apache then
     * serves no SASL). Only DigestLoginModule and the JDK's Krb5LoginModule are accepted in it.
     */
    private static AppConfigurationEntry[] serverSection(Map<String, String> settings) {
        String file = settings.get(JAAS_FILE);
        if (file == null) file = System.getProperty(JAAS_FILE);
        if (file == null) return null;
        String section = serverSectionName();
        Configuration jaas;
        try {
            URI uri = Path.of(file.trim()).toUri();
            // This file alone, not the JVM-wide configuration: the node's clients may use another.
            jaas = Configuration.getInstance("JavaLoginConfig", new URIParameter(uri));
        } catch (NoSuchAlgorithmException | IllegalArgumentException | SecurityException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException("cannot read the JAAS file " + file + ": " + cause.getMessage());
        }
        AppConfigurationEntry[] entries = jaas.getAppConfigurationEntry(section);
        if (entries == null) return null;
        for (AppConfigurationEntry entry : entries) {
            String module = entry.getLoginModuleName();
            if (!module.equals(DIGEST_LOGIN_MODULE) && !module.equals(KerberosLogin.KRB5_LOGIN_MODULE)) {
                throw new IllegalArgumentException("the JAAS section " + section + " in " + file + " uses "
                        + module + ": only " + DIGEST_LOGIN_MODULE + " (SASL DIGEST-MD5) and "
                        + KerberosLogin.KRB5_LOGIN_MODULE + " (Kerberos, SASL GSSAPI) are implemented");
            }
        }
        return entries;
    }

    private static String serverSectionName() {
        return System.getProperty(SERVER_SECTION, "Server");
    }

    /**
     * The {@code user_<name>} options of the Server section's DigestLoginModule entries, as Apache's
     * ServerCnxnFactory collects them for its DIGEST-MD5 SaslServer.
     */
    private static Map<String, String> saslUsers(AppConfigurationEntry[] section) {
        Map<String, String> users = new LinkedHashMap<>();
        for (AppConfigurationEntry entry : section) {
            if (!entry.getLoginModuleName().equals(DIGEST_LOGIN_MODULE)) continue;
            entry.getOptions().forEach((key, value) -> {
                if (key.startsWith("user_")) users.put(key.substring("user_".length()), String.valueOf(value));
            });
        }
        return users;
    }

    /** The options of the Server section's Krb5LoginModule entry, null when it has none. */
    private static Map<String, ?> kerberosOptions(AppConfigurationEntry[] section) {
        for (AppConfigurationEntry entry : section) {
            if (entry.getLoginModuleName().equals(KerberosLogin.KRB5_LOGIN_MODULE)) return entry.getOptions();
        }
        return null;
    }

    /** ZooKeeper's client-port TLS keys (ClientX509Util's names without {@code zookeeper.}). */
    private static ServerTls.Settings tlsSettings(Function<String, String> get) {
        String keyLocation = get.apply("ssl.keyStore.location");
        if (keyLocation == null || keyLocation.isEmpty()) {
            throw new IllegalArgumentException("ssl.keyStore.location is not set");
        }
        String keyType = storeType(get.apply("ssl.keyStore.type"), keyLocation);
        String keyPassword = password(get, "ssl.keyStore");
        String trustLocation = get.apply("ssl.trustStore.location");
        if (trustLocation != null && trustLocation.isEmpty()) trustLocation = null;
        String trustType = trustLocation == null ? null : storeType(get.apply("ssl.trustStore.type"), trustLocation);
        String clientAuth = get.apply("ssl.clientAuth");
        ClientAuth auth = clientAuth == null || clientAuth.isEmpty() ? ClientAuth.REQUIRE
                : switch (clientAuth.toUpperCase(Locale.ROOT)) {
                    case "NEED" -> ClientAuth.REQUIRE;
                    case "WANT" -> ClientAuth.OPTIONAL;
                    case "NONE" -> ClientAuth.NONE;
                    default -> throw new IllegalArgumentException("ssl.clientAuth must be need, want or none, not "
                            + clientAuth);
                };
        // As Apache's NettyServerCnxnFactory builds its context (ClientX509Util): ssl.enabledProtocols, else the one
        // protocol of ssl.protocol (by default TLSv1.3 alone); ssl.ciphersuites, else Apache's own list.
        List<String> protocols = ZooKeeperTlsDefaults.nettyProtocols(get.apply("ssl.protocol"),
                get.apply("ssl.enabledProtocols"));
        List<String> ciphers = ZooKeeperTlsDefaults.cipherSuites(get.apply("ssl.ciphersuites"));
        boolean pem = keyType.equals("PEM");
        return new ServerTls.Settings(keyType, keyLocation, pem ? null : keyPassword, pem ? keyPassword : null,
                null, null, trustType, trustLocation, password(get, "ssl.trustStore"), null, auth, protocols,
                ciphers, null, null);
    }

    /**
     * Apache's client port checks a TLS client's host when ssl.hostnameVerification (default true) and
     * ssl.clientHostnameVerification (default false, ClientX509Util) are both true: ZKTrustManager then checks the
     * client's address against its certificate, with no reverse lookup (ssl.allowReverseDnsLookup is off). That is
     * Apache outside FIPS mode; in its default FIPS mode Apache asks the JDK for HTTPS endpoint identification on an
     * engine that knows no peer and refuses every client (ApacheClientHostnameVerificationTest), which Tandem does not
     * copy. Null when no check is asked for.
     */
    private static java.util.function.UnaryOperator<javax.net.ssl.X509ExtendedTrustManager> clientHostCheck(
            Function<String, String> get) {
        String server = get.apply("ssl.hostnameVerification");
        String client = get.apply("ssl.clientHostnameVerification");
        boolean check = (server == null || server.trim().equalsIgnoreCase("true"))
                && client != null && client.trim().equalsIgnoreCase("true");
        return check ? trust -> new PeerAddressTrustManager(trust, false, true) : null;
    }

    /** Apache's X509Util: the type named, else guessed from the file name's extension. */
    private static String storeType(String type, String location) {
        if (type != null && !type.isEmpty()) return type.toUpperCase(Locale.ROOT);
        String name = location.toLowerCase(Locale.ROOT);
        if (name.endsWith(".jks")) return "JKS";
        if (name.endsWith(".pem")) return "PEM";
        if (name.endsWith(".p12") || name.endsWith(".pfx")) return "PKCS12";
        throw new IllegalArgumentException("cannot tell the store type of " + location
                + " from its extension: set its ssl.*.type (JKS, PKCS12 or PEM)");
    }

    /** {@code <prefix>.password}, else the contents of the file {@code <prefix>.passwordPath}, as Apache. */
    private static String password(Function<String, String> get, String prefix) {
        String password = get.apply(prefix + ".password");
        if (password != null) return password;
        String path = get.apply(prefix + ".passwordPath");
        if (path == null) return null;
        try {
            return Files.readString(Path.of(path), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + prefix + ".passwordPath " + path + ": " + e);
        }
    }
}
