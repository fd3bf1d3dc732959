package io.tandem.server.kerberos;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kerberos principal name split as Apache's KerberosName splits it: {@code service/host@REALM}, {@code user@REALM},
 * or a simple name without realm. At most two components; a name with an {@code @} that does not fit is malformed.
 *
 * @param serviceName the first component (the user, or the service of a service principal)
 * @param hostName    the second component, null when there is none
 * @param realm       the realm, null for a simple name
 */
public record KerberosName(String serviceName, String hostName, String realm) {
    private static final Pattern NAME = Pattern.compile("([^/@]*)(/([^/@]*))?@([^/@]*)");

    public KerberosName {
        if (serviceName == null) throw new IllegalArgumentException("serviceName must not be null");
    }

    /** Splits a principal name; IllegalArgumentException "Malformed Kerberos name: n" as Apache's. */
    public static KerberosName parse(String principal) {
        Matcher match = NAME.matcher(principal);
        if (match.matches()) return new KerberosName(match.group(1), match.group(3), match.group(4));
        if (principal.contains("@")) throw new IllegalArgumentException("Malformed Kerberos name: " + principal);
        return new KerberosName(principal, null, null);
    }

    @Override
    public String toString() {
        return serviceName + (hostName == null ? "" : "/" + hostName) + (realm == null ? "" : "@" + realm);
    }
}
