package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import io.tandem.server.ConfigKeys.Verdict;

import io.tandem.server.kerberos.KerberosLogin;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.RealmCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import java.security.URIParameter;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Quorum peer authentication as Apache ZooKeeper configures it: {@code quorum.auth.enableSasl},
 * {@code quorum.auth.learnerRequireSasl}, {@code quorum.auth.serverRequireSasl}, and DIGEST-MD5 credentials from the
 * JAAS file of {@code java.security.auth.login.config}: the section named by
 * {@code quorum.auth.server.saslLoginContext} (default QuorumServer, {@code user_<name>="<password>"} options: who may
 * connect) and by {@code quorum.auth.learner.saslLoginContext} (default QuorumLearner, {@code username} and
 * {@code password}: who this member is when it connects). As in Apache, the member that dials (here: the higher id)
 * is the learner of the exchange and the one that accepts is the server; DIGEST-MD5 proves both sides know the
 * password. Without the "require" flags a failed or missing exchange only leaves the connection unauthenticated
 * (Apache's rolling-upgrade mode); {@link QuorumTransport} then never accepts a forwarded request over it, since its
 * auth ids would be the peer's word alone.
 *
 * <p>A section whose login module is Krb5LoginModule makes that side Kerberos (SASL GSSAPI) instead, as in Apache:
 * see {@link QuorumKerberos}. Each section decides its own side, as Apache's SecurityUtils decides by whether the
 * section's login yields a Kerberos principal.
 *
 * <p>The exchange travels in AUTH frames of the quorum port's own layout (type {@link #AUTH_FRAME}, not a Zab
 * message): a status byte and a token. Tandem's quorum protocol is its own, so it is not Apache's QuorumAuthPacket.
 */
public final class QuorumAuth {
    public static final String ENABLE_SASL = "quorum.auth.enableSasl";
    public static final String LEARNER_REQUIRE_SASL = "quorum.auth.learnerRequireSasl";
    public static final String SERVER_REQUIRE_SASL = "quorum.auth.serverRequireSasl";
    public static final String LEARNER_LOGIN_CONTEXT = "quorum.auth.learner.saslLoginContext";
    public static final String SERVER_LOGIN_CONTEXT = "quorum.auth.server.saslLoginContext";
    static final String LEARNER_LOGIN_CONTEXT_DEFAULT = "QuorumLearner";
    static final String SERVER_LOGIN_CONTEXT_DEFAULT = "QuorumServer";
    /** Apache's DigestLoginModule: DIGEST-MD5 credentials in the section's options. */
    static final String DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule";
    /** Apache's SASL protocol and server names for quorum DIGEST-MD5 (QuorumAuth). */
    private static final String PROTOCOL = "zookeeper-quorum";
    private static final String SERVER_NAME = "zk-quorum-sasl-md5";
    private static final String MECHANISM = "DIGEST-MD5";
    private static final Set<String> KEYS = Set.of(ENABLE_SASL, LEARNER_REQUIRE_SASL, SERVER_REQUIRE_SASL,
            LEARNER_LOGIN_CONTEXT, SERVER_LOGIN_CONTEXT, QuorumKerberos.SERVICE_PRINCIPAL);

    /** The frame type byte of an AUTH frame; Zab message types are small numbers (ZabCodec). */
    static final byte AUTH_FRAME = (byte) 0xA5;
    /**
     * Largest token accepted: DIGEST-MD5 tokens are a few hundred bytes, but a Kerberos AP-REQ carries the service
     * ticket, which an Active Directory KDC fills with the principal's group list (its PAC): Windows allows 48,000
     * bytes (MaxTokenSize), so 64 KiB.
     */
    static final int TOKEN_BYTES_MAX = 65_536;

    /** An AUTH frame's status: the exchange goes on, succeeded, or failed. */
    enum Status { CONTINUE, SUCCESS, ERROR }

    record AuthFrame(Status status, byte[] token) {
    }

    /** No quorum authentication: every peer with a valid hello is trusted, as Apache's default. */
    public static final QuorumAuth NONE = new QuorumAuth(false, false, false, Map.of(), null, null, null);

    private final boolean enableSasl;
    private final boolean learnerRequireSasl;
    private final boolean serverRequireSasl;
    private final Map<String, String> serverUsers;
    private final String learnerUser;
    private final String learnerPassword;
    /** The Kerberos side(s); null when both sections are DIGEST-MD5. */
    private final QuorumKerberos kerberos;

    private QuorumAuth(boolean enableSasl, boolean learnerRequireSasl, boolean serverRequireSasl,
                       Map<String, String> serverUsers, String learnerUser, String learnerPassword,
                       QuorumKerberos kerberos) {
        this.enableSasl = enableSasl;
        this.learnerRequireSasl = learnerRequireSasl;
        this.serverRequireSasl = serverRequireSasl;
        this.serverUsers = Map.copyOf(serverUsers);
        this.learnerUser = learnerUser;
        this.learnerPassword = learnerPassword;
        this.kerberos = kerberos;
    }

    /** The verdict on a {@code quorum.auth.*} key (Apache's value checks). */
    public static Verdict verdict(String key, String value, Map<String, String> settings) {
        String v = value == null ? "" : value.trim();
        if (!KEYS.contains(key)) return Verdict.refused(key + " is not implemented");
        if (key.equals(QuorumKerberos.SERVICE_PRINCIPAL)) {
            try {
                QuorumKerberos.checkServicePrincipal(v);
            } catch (IllegalArgumentException e) {
                return Verdict.refused(e.getMessage());
            }
        } else {
            if (key.endsWith("LoginContext")) return v.isEmpty() ? Verdict.refused(key + " must name a JAAS section") : Verdict.IMPLEMENTED;
            if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) return Verdict.refused(key + " must be true or false");
            try {
                flags(settings);
            } catch (IllegalArgumentException e) {
                return Verdict.refused(e.getMessage());
            }
        }
        return settings.keySet().stream().anyMatch(k -> k.matches("server\\.\\d+")) ? Verdict.IMPLEMENTED
                : Verdict.ignored("a server without server.N lines runs standalone and has no quorum peers to authenticate");
    }

    /** Apache's QuorumPeerConfig checks on the three flags; returns {enable, learnerRequire, serverRequire}. */
    private static boolean[] flags(Map<String, String> settings) {
        boolean enable = flag(settings, ENABLE_SASL);
        boolean learner = flag(settings, LEARNER_REQUIRE_SASL);
        boolean server = flag(settings, SERVER_REQUIRE_SASL);
        if (!enable && server) {
            throw new IllegalArgumentException(ENABLE_SASL + " is disabled, so cannot enable " + SERVER_REQUIRE_SASL);
        }
        if (!enable && learner) {
            throw new IllegalArgumentException(ENABLE_SASL + " is disabled, so cannot enable " + LEARNER_REQUIRE_SASL);
        }
        // As Apache: a member whose learner does not insist could not join peers that require it.
        if (!learner && server) {
            throw new IllegalArgumentException(LEARNER_REQUIRE_SASL + " is disabled, so cannot enable "
                    + SERVER_REQUIRE_SASL);
        }
        return new boolean[] {enable, learner, server};
    }

    private static boolean flag(Map<String, String> settings, String key) {
        String v = settings.get(key);
        return v != null && v.trim().equalsIgnoreCase("true");
    }

    /**
     * The quorum authentication of zoo.cfg {@code settings}, its JAAS sections read now (start-up);
     * IllegalArgumentException names what is missing (no JAAS file, no section, a login module that is not
     * DigestLoginModule, no credentials).
     */
    public static QuorumAuth from(Map<String, String> settings) {
        boolean[] flags = flags(settings);
        if (!flags[0]) return NONE;
        String file = System.getProperty("java.security.auth.login.config");
        if (file == null || file.isBlank()) {
            throw new IllegalArgumentException(ENABLE_SASL + " is true but no JAAS file is configured (the system "
                    + "property java.security.auth.login.config)");
        }
        Configuration jaas;
        try {
            // Read from the file itself rather than through the JVM-wide cached configuration.
            jaas = Configuration.getInstance("JavaLoginConfig", new URIParameter(Path.of(file.trim()).toUri()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("cannot read the JAAS file " + file + ": " + e.getMessage(), e);
        }
        String serverSection = settings.getOrDefault(SERVER_LOGIN_CONTEXT, SERVER_LOGIN_CONTEXT_DEFAULT).trim();
        String learnerSection = settings.getOrDefault(LEARNER_LOGIN_CONTEXT, LEARNER_LOGIN_CONTEXT_DEFAULT).trim();
        AppConfigurationEntry server = entry(jaas, serverSection, file);
        AppConfigurationEntry learner = entry(jaas, learnerSection, file);
        Map<String, String> users = new HashMap<>();
        Subject serverLogin = null;
        if (isKerberos(server)) {
            serverLogin = QuorumKerberos.login(serverSection, server.getOptions());
        } else {
            options(server).forEach((k, v) -> {
                if (k.startsWith("user_")) users.put(k.substring("user_".length()), v);
            });
            if (users.isEmpty()) {
                throw new IllegalArgumentException("the JAAS section " + serverSection + " in " + file
                        + " has no user_<name> option: no peer could log in");
            }
        }
        String username = null;
        String password = null;
        Subject learnerLogin = null;
        if (isKerberos(learner)) {
            learnerLogin = QuorumKerberos.login(learnerSection, learner.getOptions());
        } else {
            username = options(learner).get("username");
            password = options(learner).get("password");
            if (username == null || password == null) {
                throw new IllegalArgumentException("the JAAS section " + learnerSection + " in " + file
                        + " needs username and password");
            }
        }
        QuorumKerberos kerberos = serverLogin == null && learnerLogin == null ? null : new QuorumKerberos(serverLogin,
                learnerLogin, QuorumKerberos.checkServicePrincipal(settings.get(QuorumKerberos.SERVICE_PRINCIPAL)));
        return new QuorumAuth(true, flags[1], flags[2], users, username, password, kerberos);
    }

    /** The section's (first) entry; its login module must be DigestLoginModule or Krb5LoginModule. */
    private static AppConfigurationEntry entry(Configuration jaas, String section, String file) {
        AppConfigurationEntry[] entries = jaas.getAppConfigurationEntry(section);
        if (entries == null || entries.length == 0) {
            throw new IllegalArgumentException("the JAAS file " + file + " has no section " + section);
        }
        for (AppConfigurationEntry entry : entries) {
            String module = entry.getLoginModuleName();
            if (!module.equals(DIGEST_LOGIN_MODULE) && !module.equals(KerberosLogin.KRB5_LOGIN_MODULE)) {
                throw new IllegalArgumentException("login module " + module + " in JAAS section " + section
                        + " is not implemented: quorum SASL here is DIGEST-MD5 with " + DIGEST_LOGIN_MODULE
                        + " or Kerberos (GSSAPI) with " + KerberosLogin.KRB5_LOGIN_MODULE);
            }
        }
        return entries[0];
    }

    private static boolean isKerberos(AppConfigurationEntry entry) {
        return entry.getLoginModuleName().equals(KerberosLogin.KRB5_LOGIN_MODULE);
    }

    private static Map<String, String> options(AppConfigurationEntry entry) {
        Map<String, String> options = new HashMap<>();
        entry.getOptions().forEach((k, v) -> options.put(k, String.valueOf(v)));
        return options;
    }

    public boolean saslEnabled() {
        return enableSasl;
    }

    public boolean learnerRequiresSasl() {
        return learnerRequireSasl;
    }

    public boolean serverRequiresSasl() {
        return serverRequireSasl;
    }

    /** The Kerberos side(s) of the exchange, null when both are DIGEST-MD5. */
    QuorumKerberos kerberos() {
        return kerberos;
    }

    /** True when the learner side is Kerberos: its steps must run on {@link QuorumKerberos#tokens()}. */
    boolean kerberosLearner() {
        return kerberos != null && kerberos.kerberosLearner();
    }

    /** True when the server side is Kerberos: its steps must run on {@link QuorumKerberos#tokens()}. */
    boolean kerberosServer() {
        return kerberos != null && kerberos.kerberosServer();
    }

    /** The learner (dialling) side of one exchange with the member at {@code host}. */
    SaslClient newLearner(String host) throws SaslException {
        if (kerberosLearner()) return kerberos.newLearner(host);
        return Sasl.createSaslClient(new String[] {MECHANISM}, null, PROTOCOL, SERVER_NAME, null, callbacks -> {
            for (Callback callback : callbacks) {
                if (callback instanceof NameCallback name) name.setName(learnerUser);
                else if (callback instanceof PasswordCallback secret) secret.setPassword(learnerPassword.toCharArray());
                else if (callback instanceof RealmCallback realm) realm.setText(realm.getDefaultText());
                else throw new UnsupportedCallbackException(callback);
            }
        });
    }

    /** One learner step; with Kerberos inside the learner's login. */
    byte[] evaluate(SaslClient learner, byte[] challenge) throws SaslException {
        return kerberosLearner() ? kerberos.evaluate(learner, challenge) : learner.evaluateChallenge(challenge);
    }

    /**
     * The server (accepting) side of one exchange: DIGEST-MD5, any user of the server section, authorized as itself;
     * Kerberos, see {@link QuorumKerberos#newServer}.
     */
    SaslServer newServer(Set<String> memberHosts) throws SaslException {
        if (kerberosServer()) return kerberos.newServer(memberHosts);
        return Sasl.createSaslServer(MECHANISM, PROTOCOL, SERVER_NAME, null, callbacks -> {
            String user = null;
            for (Callback callback : callbacks) {
                if (callback instanceof NameCallback name) {
                    user = name.getDefaultName();
                    name.setName(user);
                }
            }
            for (Callback callback : callbacks) {
                if (callback instanceof NameCallback) continue;
                if (callback instanceof PasswordCallback secret) {
                    String password = user == null ? null : serverUsers.get(user);
                    // An unknown user gets no password: the digest cannot match and the exchange fails.
                    if (password != null) secret.setPassword(password.toCharArray());
                } else if (callback instanceof RealmCallback realm) {
                    realm.setText(realm.getDefaultText());
                } else if (callback instanceof AuthorizeCallback authorize) {
                    authorize.setAuthorized(authorize.getAuthenticationID().equals(authorize.getAuthorizationID()));
                    if (authorize.isAuthorized()) authorize.setAuthorizedID(authorize.getAuthorizationID());
                } else {
                    throw new UnsupportedCallbackException(callback);
                }
            }
        });
    }

    static void writeAuth(ByteBuf out, Status status, byte[] token) {
        byte[] t = token == null ? new byte[0] : token;
        out.writeByte(AUTH_FRAME).writeByte(status.ordinal()).writeInt(t.length).writeBytes(t);
    }

    static boolean isAuth(ByteBuf frame) {
        return frame.readableBytes() > 0 && frame.getByte(frame.readerIndex()) == AUTH_FRAME;
    }

    static AuthFrame readAuth(ByteBuf in) {
        if (in.readableBytes() < 6) throw new CorruptedFrameException("truncated AUTH frame");
        in.skipBytes(1);
        int status = in.readByte();
        int length = in.readInt();
        if (status < 0 || status >= Status.values().length || length < 0 || length > TOKEN_BYTES_MAX
                || length != in.readableBytes()) {
            throw new CorruptedFrameException("bad AUTH frame: status " + status + ", token of " + length + " bytes");
        }
        byte[] token = new byte[length];
        in.readBytes(token);
        return new AuthFrame(Status.values()[status], token);
    }

    @Override
    public String toString() {
        String mechanism = kerberos == null ? MECHANISM : "server " + (kerberosServer() ? "GSSAPI" : MECHANISM)
                + ", learner " + (kerberosLearner() ? "GSSAPI" : MECHANISM);
        return enableSasl ? "SASL " + mechanism + " (learnerRequireSasl=" + learnerRequireSasl + ", serverRequireSasl="
                + serverRequireSasl + ")" : "none";
    }
}
