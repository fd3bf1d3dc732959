package io.tandem.server.zookeeper;

import io.tandem.server.ConfigKeys;
import io.tandem.server.ConfigKeys.Verdict;
import io.tandem.server.zab.QuorumTransport;
import io.tandem.storage.zk.TxnLog;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Every zoo.cfg key Apache ZooKeeper 3.9 reads (QuorumPeerConfig's own keys, and the {@code zookeeper.*} system
 * properties it sets from the rest of the file), and what Tandem does with each: honours it, ignores it with a
 * start-up warning, or refuses to start because ignoring it would weaken security or change behaviour users rely on.
 * The lists are exact names; the only patterns are Apache's own numbered or open families ({@code server.N},
 * {@code group.N}, {@code weight.N}, {@code authProvider.N}, {@code ssl.*}, {@code metricsProvider.*}), and none of them
 * is accepted silently.
 */
public final class ZooKeeperConfigKeys {
    /** Apache's zoo.cfg name for the super-user digest (it becomes the system property {@link Acls#SUPER_DIGEST_PROPERTY}). */
    public static final String SUPER_DIGEST = "DigestAuthenticationProvider.superDigest";

    /** Keys the ZooKeeper server reads and honours (see server/README.md for their meaning). */
    static final Set<String> IMPLEMENTED = Set.of("tickTime", "initLimit", "syncLimit", "minSessionTimeout",
            "maxSessionTimeout", "jute.maxbuffer", "4lw.commands.whitelist", "znode.container.checkIntervalMs",
            "znode.container.maxNeverUsedIntervalMs", "znode.container.maxPerMinute", "snapCount", "maxClientCnxns",
            "clientPort", "clientPortAddress",
            "dataDir", SUPER_DIGEST, Acls.SUPER_DIGEST_PROPERTY, "globalOutstandingLimit", TxnLog.PREALLOC_KEY,
            "zookeeper.nio.sessionlessCnxnTimeout", "admin.serverAddress", "admin.commandURL",
            "fsync.warningthresholdms",
            // The AdminServer's snapshot and restore commands (AdminSnapshots).
            // (admin.rateLimiterIntervalInMS too, checked in verdict below)
            "admin.snapshot.enabled", "admin.restore.enabled",
            // Client authentication and the secure client port (see ZkSecurity).
            "enforce.auth.schemes", "X509AuthenticationProvider.superUser", ZkSecurity.SASL_SUPER_PASSWORD,
            ZkSecurity.JAAS_FILE, "secureClientPortAddress", "superUser",
            // Any value: "true" (Apache's Boolean.getBoolean) watches the secure port's store files, else not.
            ZkSecurity.CERT_RELOAD,
            // How a Kerberos (GSSAPI) client's principal becomes its sasl id (ZkKerberos).
            "kerberos.removeHostFromPrincipal", "kerberos.removeRealmFromPrincipal", "security.auth_to_local");

    /**
     * Implemented settings Apache reads from a Java system property (its only source for some: zoo.cfg cannot set
     * {@code jute.maxbuffer} or the container sweep in Apache), by zoo.cfg key. A server started with
     * {@code -Dznode.container.checkIntervalMs=100} (SERVER_JVMFLAGS, or an embedding test such as Curator's) gets
     * it here too; a zoo.cfg or {@code --set} value wins.
     */
    private static final Map<String, String> SYSTEM_PROPERTIES = Map.of(
            "jute.maxbuffer", "jute.maxbuffer",
            "znode.container.checkIntervalMs", "znode.container.checkIntervalMs",
            "znode.container.maxNeverUsedIntervalMs", "znode.container.maxNeverUsedIntervalMs",
            "znode.container.maxPerMinute", "znode.container.maxPerMinute",
            "snapCount", "zookeeper.snapCount",
            "globalOutstandingLimit", "zookeeper.globalOutstandingLimit",
            "4lw.commands.whitelist", "zookeeper.4lw.commands.whitelist",
            "zookeeper.nio.sessionlessCnxnTimeout", "zookeeper.nio.sessionlessCnxnTimeout",
            "fsync.warningthresholdms", "zookeeper.fsync.warningthresholdms",
            "enforceQuota", "zookeeper.enforceQuota");

    /** A setting's value from Apache's system property of it, or null (see {@link #SYSTEM_PROPERTIES}). */
    static String fromSystemProperty(String key) {
        String property = SYSTEM_PROPERTIES.get(key);
        return property == null ? null : System.getProperty(property);
    }

    /** Apache 3.9's switch for checking a TLS client's host name against its certificate (ClientX509Util: off). */
    static final String CLIENT_HOSTNAME_VERIFICATION = "ssl.clientHostnameVerification";

    /** Apache 3.9.5's switch for naming a TLS client by the reverse lookup of its address (ClientX509Util: off). */
    static final String CLIENT_REVERSE_DNS_LOOKUP = "ssl.allowReverseDnsLookup";

    /** The ZooKeeper client-port TLS keys the secure port honours (Apache's ClientX509Util names). */
    static final Set<String> TLS_KEYS = Set.of("ssl.keyStore.location", "ssl.keyStore.password",
            "ssl.keyStore.passwordPath", "ssl.keyStore.type", "ssl.trustStore.location", "ssl.trustStore.password",
            "ssl.trustStore.passwordPath", "ssl.trustStore.type", "ssl.clientAuth", "ssl.protocol",
            "ssl.enabledProtocols", "ssl.ciphersuites",
            // Only the quorum's TLS verifies peer host names; Apache's client port never verifies its clients'.
            "ssl.hostnameVerification");

    /** Keys Apache reads that Tandem does not implement; each one set is named in a start-up warning. */
    static final Set<String> NOT_IMPLEMENTED = Set.of("localSessionsUpgradingEnabled",
            "clientPortListenBacklog", "connectToLearnerMasterLimit", "quorumListenOnAllIPs", "syncEnabled",
            "autopurge.snapRetainCount", "autopurge.purgeInterval",
            "quorum.cnxn.threads.size", "jvm.pause.info-threshold.ms",
            "jvm.pause.warn-threshold.ms", "jvm.pause.sleep.time.ms", "jvm.pause.monitor", "multiAddress.enabled",
            "multiAddress.reachabilityCheckTimeoutMs", "multiAddress.reachabilityCheckEnabled",
            "snapSizeLimitInKb", "txnLogSizeLimitInKb", "commitLogCount",
            "maxCnxns", "maxResponseCacheSize", "maxGetChildrenResponseCacheSize", "emulate353TTLNodes",
            "watchManagerName", "watcherCleanThreshold", "watcherCleanIntervalInSeconds", "watcherCleanThreadsNum",
            "maxInProcessingDeadWatchers", "bitHashCacheSize", "fastleader.minNotificationInterval",
            "fastleader.maxNotificationInterval", "connectionMaxTokens", "connectionTokenFillTime",
            "connectionTokenFillCount", "connectionFreezeTime", "connectionDropIncrease", "connectionDropDecrease",
            "connectionDecreaseRatio", "request_throttle_max_requests", "request_throttle_stall_time",
            "request_throttle_drop_stale", "requestStaleLatencyCheck", "requestStaleConnectionCheck", "flushDelay",
            "maxWriteQueuePollTime", "maxBatchSize", "largeRequestMaxBytes", "largeRequestThreshold",
            "throttledOpWaitTime", "learner.asyncSending", "learner.closeSocketAsync", "leader.closeSocketAsync",
            "forward_learner_requests_to_commit_processor_disabled", "digest.enabled",
            "snapshot.trust.empty", "snapshot.compression.method", "closeSessionTxn.enabled",
            "serializeLastProcessedZxid.enabled", "leaderServes", "cnxTimeout", "quorumCnxnTimeoutMs",
            "electionPortBindRetry", "tcpKeepAlive", "clientTcpKeepAlive",
            "admin.snapshot.intervalInMS",
            "kerberos.canonicalizeHostNames",
            "ensembleAuthName",
            "netty.server.outstandingHandshake.limit", "nio.numSelectorThreads", "nio.numWorkerThreads",
            "nio.directBufferBytes", "nio.shutdownTimeout", "audit.impl.class");

    /**
     * Apache's providers Tandem serves: digest and ip are always on (naming them changes nothing, in Apache and
     * here); sasl and x509 are on when named.
     */
    private static final Set<String> AUTH_PROVIDERS = Set.of(
            "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
            "org.apache.zookeeper.server.auth.IPAuthenticationProvider", ZkSecurity.SASL_PROVIDER,
            ZkSecurity.X509_PROVIDER);
    /** Both of Apache's connection factories serve plain TCP exactly as Tandem does. */
    private static final Set<String> PLAIN_CONNECTION_FACTORIES = Set.of(
            "org.apache.zookeeper.server.NIOServerCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory");
    private static final String DEFAULT_METRICS_PROVIDER = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";
    private static final String TLS = "TLS is not implemented";
    // TLS serves the secure client port (and, with sslQuorum, the quorum port); the plain port and the AdminServer stay plain.

    private ZooKeeperConfigKeys() {
    }

    /**
     * Milliseconds the AdminServer keeps a silent connection (Jetty's idle timeout in Apache). Apache's 0 or less means
     * never; Tandem always closes idle connections, since nothing else bounds how many a client keeps open.
     */
    private static Verdict adminIdleTimeout(String v) {
        try {
            return Integer.parseInt(v) > 0 ? Verdict.IMPLEMENTED
                    : Verdict.refused("an AdminServer that never closes idle connections is not implemented: give"
                            + " admin.idleTimeout a positive number of milliseconds");
        } catch (NumberFormatException e) {
            return Verdict.refused("admin.idleTimeout must be a number of milliseconds: " + v);
        }
    }

    /** What Tandem does with a zoo.cfg key, or null when the key is not one of Apache ZooKeeper's. */
    public static Verdict verdict(String key, String value, Map<String, String> settings) {
        String v = value == null ? "" : value.trim();
        if (IMPLEMENTED.contains(key)) return Verdict.IMPLEMENTED;
        if (NOT_IMPLEMENTED.contains(key)) return Verdict.ignored("not implemented by Tandem");
        if (key.matches("server\\.\\d+")) return serverLine(key, v);
        if (key.matches("(group|weight)\\.\\d+")) return Verdict.refused("hierarchical quorums are not implemented");
        if (key.startsWith("authProvider.")) {
            return AUTH_PROVIDERS.contains(v) ? Verdict.IMPLEMENTED
                    : Verdict.refused("authentication provider " + v + " is not implemented (digest, ip, sasl and x509"
                            + " are)");
        }
        if (key.startsWith("ssl.quorum.")) return io.tandem.server.zab.QuorumTls.verdict(key, v);
        if (TLS_KEYS.contains(key)) return Verdict.IMPLEMENTED;
        if (key.equals("ssl.crl") || key.equals("ssl.ocsp")) {
            return flag(key, v, false, "certificate revocation checks are not implemented");
        }
        if (key.equals("ssl.authProvider")) {
            return v.equals("x509") ? Verdict.IMPLEMENTED
                    : Verdict.refused("only the x509 provider authenticates TLS clients");
        }
        if (key.equals(CLIENT_HOSTNAME_VERIFICATION)) {
            // Apache 3.9.5 (ApacheClientHostnameVerificationTest): off by default on the client port; on (with
            // ssl.hostnameVerification), the client's address is checked against its certificate as Apache does
            // outside FIPS mode (ZkSecurity.clientHostCheck).
            return v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false") ? Verdict.IMPLEMENTED
                    : Verdict.refused(key + " must be true or false");
        }
        if (key.equals(CLIENT_REVERSE_DNS_LOOKUP)) {
            // Apache 3.9.5 (ClientX509Util): off by default, and Tandem's client-port check never looks an address
            // up. On, ZKTrustManager would name a client by reverse DNS, which Tandem does not do on the client port.
            return flag(key, v, false, "naming TLS clients by reverse DNS lookup on the client port is not implemented");
        }
        if (key.startsWith("ssl.")) return Verdict.refused(key + " is not implemented on the secure client port");
        if (key.startsWith("quorum.auth.")) return io.tandem.server.zab.QuorumAuth.verdict(key, v, settings);
        if (key.startsWith("metricsProvider.")) {
            return key.equals("metricsProvider.className") && v.equals(DEFAULT_METRICS_PROVIDER) ? Verdict.IMPLEMENTED
                    : Verdict.ignored("metrics providers are not implemented (Tandem's Prometheus endpoint is"
                            + " metrics.port; mntr and the AdminServer's monitor command report the same figures)");
        }
        return switch (key) {
            // Served with Netty's SslHandler; ZkSecurity refuses it without Apache's Netty connection factory.
            case "secureClientPort" -> !ZkSecurity.NETTY_FACTORY.equals(trimmed(settings.get("serverCnxnFactory")))
                    ? Verdict.refused("the secure client port needs serverCnxnFactory=" + ZkSecurity.NETTY_FACTORY
                            + " (Apache's NIO factory serves no TLS)")
                    : ConfigKeys.port(v);
            case "sslQuorum", "sslQuorumReloadCertFiles" -> io.tandem.server.zab.QuorumTls.verdict(key, v);
            case io.tandem.server.zab.QuorumTls.FIPS_MODE -> io.tandem.server.zab.QuorumTls.fipsModeVerdict(v);
            // Apache prefixes zoo.cfg keys with "zookeeper.", so this one sets zookeeper.zookeeper.fips-mode,
            // which nothing reads: FIPS mode stays as it was.
            case io.tandem.server.zab.QuorumTls.FIPS_MODE_PROPERTY -> Verdict.ignored("Apache reads FIPS mode from"
                    + " the zoo.cfg key fips-mode (or the system property zookeeper.fips-mode), not from this key");
            case "portUnification", "client.portUnification" -> flag(key, v, false,
                    "TLS on the plain client port (port unification) is not implemented: use secureClientPort");
            // The transaction log goes there, snapshots and the rest stay in dataDir (DataDirs), as Apache's
            // FileTxnSnapLog(dataLogDir, dataDir) keeps them.
            case "dataLogDir" -> v.isBlank() ? Verdict.refused("dataLogDir must name a directory")
                    : Verdict.IMPLEMENTED;
            case "serverCnxnFactory" -> PLAIN_CONNECTION_FACTORIES.contains(v) ? Verdict.IMPLEMENTED
                    : Verdict.refused("connection factory " + v + " is not implemented");
            case "admin.idleTimeout" -> adminIdleTimeout(v);
            // Read (and checked) by DynamicConfigFile before the keys are, its member lines merged in.
            case DynamicConfigFile.KEY -> Verdict.IMPLEMENTED;
            case "oraclePath" -> Verdict.refused("the quorum oracle is not implemented");
            // Apache lets the server.N lines decide (a contradicting peerType only earns a warning, logged when the
            // member starts and knows its id); a server without them runs standalone and observes nothing.
            case "peerType" -> switch (v.toLowerCase(Locale.ROOT)) {
                case "participant" -> Verdict.IMPLEMENTED;
                case "observer" -> settings.keySet().stream().anyMatch(k -> k.matches("server\\.\\d+"))
                        ? Verdict.IMPLEMENTED
                        : Verdict.ignored("a server without server.N lines runs standalone and has no leader to observe");
                default -> Verdict.refused("Unrecognised peertype: " + v);
            };
            case "electionAlg" -> v.equals("3") ? Verdict.IMPLEMENTED
                    : Verdict.refused("Invalid electionAlg value. Only 3 is supported.");
            // Served as Reconfig says: observers are added and removed; a reconfig that changes the voters is refused
            // with Unimplemented.
            case "reconfigEnabled" -> v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")
                    ? Verdict.IMPLEMENTED : Verdict.refused(key + " must be true or false");
            case ZkServerConfig.READ_ONLY_MODE -> !v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")
                    ? Verdict.refused(key + " must be true or false")
                    : v.equalsIgnoreCase("true") && settings.keySet().stream().noneMatch(k -> k.matches("server\\.\\d+"))
                    ? Verdict.ignored("a server without server.N lines runs standalone and has no quorum to lose")
                    : Verdict.IMPLEMENTED;
            case ZkServerConfig.QUORUM_PROTOCOL -> quorumProtocol(v, settings);
            case "observerMasterPort" -> observerMasterPort(v, settings);
            case "localSessionsEnabled" -> flag(key, v, false, "local sessions are not implemented");
            case "skipACL" -> v.equalsIgnoreCase("yes") ? Verdict.refused("ACL checks cannot be switched off")
                    : Verdict.IMPLEMENTED;
            case "sessionRequireClientSASLAuth" -> flag(key, v, Boolean.parseBoolean(v), "");
            case "enforce.auth.enabled" -> v.equalsIgnoreCase("true") && settings.get("enforce.auth.schemes") == null
                    && System.getProperty("zookeeper.enforce.auth.schemes") == null
                    ? Verdict.refused("zookeeper.enforce.auth.enabled is true zookeeper.enforce.auth.schemes must be "
                            + "configured.")
                    : flag(key, v, Boolean.parseBoolean(v), "");
            case "enforceQuota" -> flag(key, v, Boolean.parseBoolean(v), "");
            case "DigestAuthenticationProvider.enabled" -> flag(key, v, true,
                    "digest authentication cannot be switched off");
            case "DigestAuthenticationProvider.digestAlg" -> v.equalsIgnoreCase("SHA1") ? Verdict.IMPLEMENTED
                    : Verdict.refused("only SHA1 digests are implemented");
            case "audit.enable" -> v.equalsIgnoreCase("true") ? Verdict.ignored("audit logging is not implemented")
                    : Verdict.IMPLEMENTED;
            // The next ones are accepted when they ask for what Tandem always does, else warned about.
            case "forceSync" -> v.equalsIgnoreCase("no")
                    ? Verdict.ignored("Tandem always fsyncs the transaction log before acknowledging")
                    : Verdict.IMPLEMENTED;
            case "admin.enableServer" -> v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")
                    ? Verdict.IMPLEMENTED : Verdict.refused(key + " must be true or false");
            case "admin.serverPort" -> ConfigKeys.port(v);
            // Apache parses it with Integer.parseInt when its commands load, failing on anything else.
            case "admin.rateLimiterIntervalInMS" -> v.trim().matches("-?\\d{1,10}")
                    && Math.abs(Long.parseLong(v.trim())) <= Integer.MAX_VALUE ? Verdict.IMPLEMENTED
                    : Verdict.refused(key + " must be a number of milliseconds: " + v);
            case "admin.forceHttps", "admin.needClientAuth", "admin.portUnification" -> flag(key, v, false,
                    TLS + " on the AdminServer");
            case "standaloneEnabled" -> v.equalsIgnoreCase("true") ? Verdict.IMPLEMENTED
                    : Verdict.ignored("a node without server.N lines always runs standalone");
            case "extendedTypesEnabled", "zookeeper.extendedTypesEnabled" -> v.equalsIgnoreCase("true")
                    ? Verdict.IMPLEMENTED : Verdict.ignored("TTL nodes are always accepted");
            default -> null;
        };
    }

    private static String trimmed(String value) {
        return value == null ? null : value.trim();
    }

    /** A switch whose {@code honoured} value is what Tandem does; the other value is refused. */
    private static Verdict flag(String key, String value, boolean honoured, String reason) {
        if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
            return Verdict.refused(key + " must be true or false");
        }
        return Boolean.parseBoolean(value) == honoured ? Verdict.IMPLEMENTED : Verdict.refused(reason);
    }

    /**
     * {@code tandem.quorumProtocol}: tandem or apache. What Apache's protocol does not carry yet here (quorum TLS and
     * SASL, read-only mode) is refused with it rather than silently dropped; any member may be an
     * observer, this one included (its own {@code :observer} line, or {@code peerType=observer}).
     */
    private static Verdict quorumProtocol(String value, Map<String, String> settings) {
        String v = value.toLowerCase(Locale.ROOT);
        if (v.equals(ZkServerConfig.QUORUM_PROTOCOL_TANDEM)) {
            return Verdict.IMPLEMENTED;
        }
        if (!v.equals(ZkServerConfig.QUORUM_PROTOCOL_APACHE)) {
            return Verdict.refused(ZkServerConfig.QUORUM_PROTOCOL + " must be " + ZkServerConfig.QUORUM_PROTOCOL_TANDEM
                    + " or " + ZkServerConfig.QUORUM_PROTOCOL_APACHE + ", not '" + value + "'");
        }
        if (settings.keySet().stream().noneMatch(k -> k.matches("server\\.\\d+"))) {
            return Verdict.refused(ZkServerConfig.QUORUM_PROTOCOL + "=apache needs server.N lines (an ensemble)");
        }
        for (Map.Entry<String, String> entry : settings.entrySet()) {
            if (!entry.getKey().matches("server\\.\\d+") || entry.getValue() == null) {
                continue;
            }
            QuorumTransport.Peer peer;
            try {
                peer = QuorumTransport.Peer.parse(Integer.parseInt(entry.getKey().substring("server.".length())),
                        entry.getValue().trim());
            } catch (IllegalArgumentException e) {
                continue; // refused by the line's own verdict
            }
            if (peer.electionPort() == -1) {
                return Verdict.refused(ZkServerConfig.QUORUM_PROTOCOL + "=apache elects on each member's "
                        + "electionPort, which " + entry.getKey() + " does not name (host:quorumPort:electionPort)");
            }
        }
        // reconfigEnabled is taken: a member following an Apache leader activates its reconfigs; one leading Apache
        // followers carries them out as Apache's leader (zab/README.md, stage 3).
        String sasl = settings.get("quorum.auth.enableSasl");
        if (sasl != null && sasl.trim().equalsIgnoreCase("true")) {
            return Verdict.refused("quorum.auth.enableSasl=true is not implemented with " + ZkServerConfig.QUORUM_PROTOCOL
                    + "=apache");
        }
        // Apache reads read-only mode from the Java system property only: a member started as Apache's would be
        // (-Dreadonlymode.enabled=true) must be refused too, not just one with the zoo.cfg key.
        if (ZkServerConfig.readOnlyModeEnabled(settings::get)) {
            return Verdict.refused(ZkServerConfig.READ_ONLY_MODE + "=true (zoo.cfg or Java system property) is not "
                    + "implemented with " + ZkServerConfig.QUORUM_PROTOCOL + "=apache");
        }
        return Verdict.IMPLEMENTED;
    }

    /**
     * {@code observerMasterPort} (Apache 3.9, ZOOKEEPER-3140): the port a follower serves observers on, and the one an
     * observer looks for each voter's learner master at. Apache's protocol carries it (ApacheEnsembleCommit says what
     * a member does with it). Tandem's own protocol has no learner master: its observers sync from the leader, so an
     * ensemble configured to spread them over the followers would quietly load its leader instead; it is refused,
     * naming the way out, as an {@code :observer} line was refused before observers landed (issue 14). 0 is Apache's
     * "none" and asks for nothing. A standalone server ignores it with a warning, as Apache's has no followers.
     */
    private static Verdict observerMasterPort(String value, Map<String, String> settings) {
        if (settings.keySet().stream().noneMatch(k -> k.matches("server\\.\\d+"))) {
            return Verdict.ignored("a server without server.N lines runs standalone: no follower serves observers");
        }
        // 0 is Apache's "none" (QuorumPeer starts an ObserverMaster, and observers look for one, only above 0).
        Verdict port = ConfigKeys.port(value);
        if (port.kind() != ConfigKeys.Kind.IMPLEMENTED || ZkServerConfig.apacheQuorumProtocol(settings::get)
                || Integer.parseInt(value.trim()) == 0) {
            return port;
        }
        return Verdict.refused(ZkServerConfig.QUORUM_PROTOCOL + "=" + ZkServerConfig.QUORUM_PROTOCOL_TANDEM
                + " has no learner master (its observers sync from the leader); remove observerMasterPort, or set "
                + ZkServerConfig.QUORUM_PROTOCOL + "=" + ZkServerConfig.QUORUM_PROTOCOL_APACHE + ", which serves "
                + "observers from the followers as Apache does");
    }

    /** {@code server.N=host:quorumPort:electionPort[:participant][;[clientAddress:]clientPort]}. */
    private static Verdict serverLine(String key, String value) {
        try {
            QuorumTransport.Peer.parse(Integer.parseInt(key.substring("server.".length())), value);
            return Verdict.IMPLEMENTED;
        } catch (IllegalArgumentException e) {
            return Verdict.refused(e.getMessage());
        }
    }
}
