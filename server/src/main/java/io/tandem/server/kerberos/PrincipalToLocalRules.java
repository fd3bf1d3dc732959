package io.tandem.server.kerberos;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The auth_to_local rules that turn an authenticated Kerberos principal into a short name, in the syntax Kafka's
 * {@code sasl.kerberos.principal.to.local.rules} and ZooKeeper's {@code zookeeper.security.auth_to_local} share
 * (Hadoop's):
 * {@code DEFAULT}, or {@code RULE:[n:format](match)s/from/to/g} with an optional {@code /L} (lower case) or {@code /U}
 * (upper case), as Kafka 3.9 parses them (ZooKeeper's grammar has neither suffix). The first rule that applies names
 * the principal; none: {@link NoMatchingRule}.
 *
 * <ul>
 * <li>{@code DEFAULT}: a principal of the default realm (of krb5.conf) is its first component.</li>
 * <li>{@code RULE:[n:format]}: applies to principals of exactly n components; {@code format} builds a string from
 * {@code $0} (the realm), {@code $1}, {@code $2} (the components); the optional {@code (match)} regular expression must
 * match all of it, and the optional sed-like {@code s/from/to/} (every match with {@code g}) rewrites it.</li>
 * <li>A result with {@code /} or {@code @} left in it is not a short name: the rule fails the principal.</li>
 * </ul>
 */
public final class PrincipalToLocalRules {
    private static final Pattern RULE = Pattern.compile(
            "((DEFAULT)|((RULE:\\[(\\d*):([^\\]]*)](\\(([^)]*)\\))?(s/([^/]*)/([^/]*)/(g)?)?/?(L|U)?)))");
    /** Literal text, then at most one {@code $n}. */
    private static final Pattern PARAMETER = Pattern.compile("([^$]*)(\\$(\\d*))?");
    private static final Pattern NON_SIMPLE = Pattern.compile("[/@]");

    /** No rule gave a short name (or one gave a name that is not simple). */
    public static final class NoMatchingRule extends Exception {
        NoMatchingRule(String message) {
            super(message);
        }
    }

    private record Rule(boolean isDefault, int components, String format, Pattern match, Pattern from, String to,
                        boolean repeat, boolean lowerCase, boolean upperCase) {
        @Override
        public String toString() {
            if (isDefault) return "DEFAULT";
            StringBuilder text = new StringBuilder("RULE:[").append(components).append(':').append(format).append(']');
            if (match != null) text.append('(').append(match).append(')');
            if (from != null) {
                text.append("s/").append(from).append('/').append(to).append('/').append(repeat ? "g" : "");
            }
            if (lowerCase) text.append("/L");
            if (upperCase) text.append("/U");
            return text.toString();
        }
    }

    private final String defaultRealm;
    private final List<Rule> rules;

    private PrincipalToLocalRules(String defaultRealm, List<Rule> rules) {
        this.defaultRealm = defaultRealm;
        this.rules = rules;
    }

    /**
     * Parses the rules ({@code DEFAULT} alone when null); {@code defaultRealm} is the realm DEFAULT accepts.
     * IllegalArgumentException with Kafka's words for a rule that does not parse.
     */
    public static PrincipalToLocalRules parse(String defaultRealm, List<String> texts) {
        List<Rule> rules = new ArrayList<>();
        for (String text : texts == null ? List.of("DEFAULT") : texts) {
            Matcher m = RULE.matcher(text);
            if (!m.lookingAt()) throw new IllegalArgumentException("Invalid rule: " + text);
            if (m.end() != text.length()) {
                throw new IllegalArgumentException("Invalid rule: `" + text + "`, unmatched substring: `"
                        + text.substring(m.end()) + "`");
            }
            if (m.group(2) != null) {
                rules.add(new Rule(true, 0, null, null, null, null, false, false, false));
            } else {
                rules.add(new Rule(false, Integer.parseInt(m.group(5)), m.group(6),
                        m.group(8) == null ? null : Pattern.compile(m.group(8)),
                        m.group(10) == null ? null : Pattern.compile(m.group(10)), m.group(11),
                        "g".equals(m.group(12)), "L".equals(m.group(13)), "U".equals(m.group(13))));
            }
        }
        return new PrincipalToLocalRules(defaultRealm == null ? "" : defaultRealm, List.copyOf(rules));
    }

    /** Splits a comma-separated list value as Kafka's ConfigDef LIST type does (trimmed, empty entries dropped). */
    public static List<String> listValue(String value) {
        List<String> items = new ArrayList<>();
        if (value == null) return items;
        for (String item : value.split(",")) {
            if (!item.trim().isEmpty()) items.add(item.trim());
        }
        return items;
    }

    /** The short name of {@code name}: a simple name as it is, else the first rule's result. */
    public String shortName(KerberosName name) throws NoMatchingRule {
        String[] params;
        if (name.hostName() == null) {
            if (name.realm() == null) return name.serviceName();
            params = new String[] {name.realm(), name.serviceName()};
        } else {
            params = new String[] {name.realm(), name.serviceName(), name.hostName()};
        }
        for (Rule rule : rules) {
            String result = apply(rule, params);
            if (result != null) return result;
        }
        throw new NoMatchingRule("No rules apply to " + name + ", rules " + rules);
    }

    private String apply(Rule rule, String[] params) throws NoMatchingRule {
        String result = null;
        if (rule.isDefault) {
            if (defaultRealm.equals(params[0])) result = params[1];
        } else if (params.length - 1 == rule.components) {
            String base = replaceParameters(rule, params);
            if (rule.match == null || rule.match.matcher(base).matches()) {
                if (rule.from == null) {
                    result = base;
                } else {
                    Matcher from = rule.from.matcher(base);
                    result = rule.repeat ? from.replaceAll(rule.to) : from.replaceFirst(rule.to);
                }
            }
        }
        if (result != null && NON_SIMPLE.matcher(result).find()) {
            throw new NoMatchingRule("Non-simple name " + result + " after auth_to_local rule " + rule);
        }
        if (result != null && rule.lowerCase) return result.toLowerCase(Locale.ENGLISH);
        if (result != null && rule.upperCase) return result.toUpperCase(Locale.ENGLISH);
        return result;
    }

    /** The rule's format with {@code $n} replaced by the n-th parameter ({@code $0} the realm). */
    private static String replaceParameters(Rule rule, String[] params) throws NoMatchingRule {
        Matcher m = PARAMETER.matcher(rule.format);
        int start = 0;
        StringBuilder result = new StringBuilder();
        while (start < rule.format.length() && m.find(start)) {
            result.append(m.group(1));
            String number = m.group(3);
            if (number != null) {
                int n;
                try {
                    n = Integer.parseInt(number);
                } catch (NumberFormatException e) {
                    throw new NoMatchingRule("bad format in username mapping in " + number);
                }
                if (n < 0 || n >= params.length) {
                    throw new NoMatchingRule("index " + n + " from " + rule.format
                            + " is outside of the valid range 0 to " + (params.length - 1));
                }
                result.append(params[n]);
            }
            start = m.end();
        }
        return result.toString();
    }

    @Override
    public String toString() {
        return rules.toString();
    }
}
