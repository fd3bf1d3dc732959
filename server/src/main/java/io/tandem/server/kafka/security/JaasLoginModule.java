package io.tandem.server.kafka.security;

import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import java.io.IOException;
import java.io.StreamTokenizer;
import java.io.StringReader;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The login module of a SASL mechanism on a listener, found as Kafka's JaasContext.loadServerContext finds it: the
 * {@code listener.name.<listener>.<mechanism>.sasl.jaas.config} setting (one module, Kafka's JaasConfig syntax:
 * {@code Class flag key="value" ...;}), else the JAAS file of {@code java.security.auth.login.config}, section
 * {@code <listener>.KafkaServer} then {@code KafkaServer}; and a client's, from its {@code sasl.jaas.config} or the
 * JAAS file's {@code KafkaClient} section ({@link #clientSection}).
 */
public record JaasLoginModule(String className, Map<String, String> options) {
    public static final String PLAIN_LOGIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule";
    public static final String SCRAM_LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule";
    public static final String OAUTHBEARER_LOGIN_MODULE =
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";
    /** The system property naming the JVM's JAAS file. */
    static final String JAVA_LOGIN_CONFIG = "java.security.auth.login.config";
    /** Kafka's JaasContext.GLOBAL_CONTEXT_NAME_CLIENT: the section a client without sasl.jaas.config logs in with. */
    static final String CLIENT_SECTION = "KafkaClient";

    /** Parses a sasl.jaas.config value; IllegalArgumentException naming what is wrong. */
    public static JaasLoginModule parse(String text) {
        StreamTokenizer tokens = new StreamTokenizer(new StringReader(text));
        tokens.slashSlashComments(true);
        tokens.slashStarComments(true);
        tokens.wordChars('-', '-');
        tokens.wordChars('_', '_');
        tokens.wordChars('$', '$');
        tokens.wordChars('.', '.');
        try {
            if (tokens.nextToken() != StreamTokenizer.TT_WORD) throw new IllegalArgumentException("Login module not specified in JAAS config");
            String className = tokens.sval;
            if (tokens.nextToken() != StreamTokenizer.TT_WORD) throw new IllegalArgumentException("Login module control flag not specified in JAAS config");
            String flag = tokens.sval.toLowerCase(java.util.Locale.ROOT);
            if (!java.util.List.of("required", "requisite", "sufficient", "optional").contains(flag)) {
                throw new IllegalArgumentException("Invalid login module control flag '" + tokens.sval + "' in JAAS config");
            }
            Map<String, String> options = new LinkedHashMap<>();
            while (tokens.nextToken() != StreamTokenizer.TT_EOF && tokens.ttype != ';') {
                String key = tokens.sval;
                if (tokens.ttype != StreamTokenizer.TT_WORD || tokens.nextToken() != '=' || tokens.nextToken() == StreamTokenizer.TT_EOF
                        || tokens.sval == null) {
                    throw new IllegalArgumentException("Value not specified for key '" + key + "' in JAAS config");
                }
                options.put(key, tokens.sval);
            }
            if (tokens.ttype != ';') throw new IllegalArgumentException("JAAS config entry not terminated by semi-colon");
            if (tokens.nextToken() != StreamTokenizer.TT_EOF) {
                throw new IllegalArgumentException("JAAS config property contains 2 login modules, should be 1 module");
            }
            return new JaasLoginModule(className, options);
        } catch (IOException e) {
            throw new IllegalArgumentException("Unexpected exception while parsing JAAS config", e);
        }
    }

    /**
     * The module for the mechanism on the listener, or null when neither the setting nor the JAAS file has one.
     * {@code settings} are the broker's server.properties keys.
     */
    public static JaasLoginModule find(String listenerName, String mechanism, Map<String, String> settings) {
        String key = "listener.name." + listenerName.toLowerCase(java.util.Locale.ROOT) + "."
                + mechanism.toLowerCase(java.util.Locale.ROOT) + ".sasl.jaas.config";
        if (settings.get(key) != null) return parse(settings.get(key));
        if (System.getProperty("java.security.auth.login.config") == null) return null;
        Configuration jaas = Configuration.getConfiguration();
        for (String section : new String[] {listenerName.toLowerCase(java.util.Locale.ROOT) + ".KafkaServer", "KafkaServer"}) {
            AppConfigurationEntry[] entries = jaas.getAppConfigurationEntry(section);
            if (entries == null) continue;
            for (AppConfigurationEntry entry : entries) {
                String wanted = moduleFor(mechanism);
                if (!entry.getLoginModuleName().equals(wanted)) continue;
                Map<String, String> options = new LinkedHashMap<>();
                entry.getOptions().forEach((k, v) -> options.put(k, String.valueOf(v)));
                return new JaasLoginModule(entry.getLoginModuleName(), options);
            }
        }
        return null;
    }

    /**
     * A Kafka client's login modules when it has no {@code sasl.jaas.config}, found as Kafka's
     * JaasContext.loadClientContext finds them: the {@code KafkaClient} section of the JVM's JAAS configuration
     * ({@code -Djava.security.auth.login.config}), every entry in order (Kafka's JaasContext keeps them all, and its
     * LoginManager runs them all in one login). IllegalArgumentException with Kafka's words when there is no such
     * section, naming what would do instead.
     */
    public static java.util.List<JaasLoginModule> clientSection() {
        String file = System.getProperty(JAVA_LOGIN_CONFIG);
        AppConfigurationEntry[] entries;
        try {
            entries = Configuration.getConfiguration().getAppConfigurationEntry(CLIENT_SECTION);
        } catch (RuntimeException e) {
            // The JDK's file-based configuration found no file or could not parse it.
            if (file != null) {
                throw new IllegalArgumentException("cannot read the JAAS file " + file + " (" + JAVA_LOGIN_CONFIG
                        + "): " + e.getMessage(), e);
            }
            entries = null;
        }
        if (entries == null || entries.length == 0) {
            throw new IllegalArgumentException("Could not find a '" + CLIENT_SECTION + "' entry in the JAAS "
                    + "configuration. System property '" + JAVA_LOGIN_CONFIG + "' is "
                    + (file == null ? "not set" : file) + " (set sasl.jaas.config, or give a JAAS file with a "
                    + CLIENT_SECTION + " section)");
        }
        java.util.List<JaasLoginModule> modules = new java.util.ArrayList<>();
        for (AppConfigurationEntry entry : entries) {
            Map<String, String> options = new LinkedHashMap<>();
            entry.getOptions().forEach((k, v) -> options.put(k, String.valueOf(v)));
            modules.add(new JaasLoginModule(entry.getLoginModuleName(), options));
        }
        return java.util.List.copyOf(modules);
    }

    /** The login module class a listener's mechanism is configured with. */
    public static String moduleFor(String mechanism) {
        return switch (mechanism) {
            case "PLAIN" -> PLAIN_LOGIN_MODULE;
            case "OAUTHBEARER" -> OAUTHBEARER_LOGIN_MODULE;
            case "GSSAPI" -> io.tandem.server.kerberos.KerberosLogin.KRB5_LOGIN_MODULE;
            default -> SCRAM_LOGIN_MODULE;
        };
    }

    /** PLAIN's users: every {@code user_<name>} option. */
    public Map<String, String> plainPasswords() {
        Map<String, String> users = new LinkedHashMap<>();
        options.forEach((k, v) -> {
            if (k.startsWith("user_")) users.put(k.substring("user_".length()), v);
        });
        return users;
    }
}
