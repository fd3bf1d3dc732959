package io.tandem.server.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * Whether a certificate names a host, as Apache ZooKeeper's ZKHostnameVerifier decides it (the rules of Apache
 * HttpClient's DefaultHostnameVerifier, without public suffixes): an IPv4 or IPv6 literal must equal an IP address
 * subject alternative name; a DNS name must equal a DNS subject alternative name, case aside, where a leading
 * {@code *} of the certificate's name stands for one label; a certificate without alternative names of any kind is
 * checked by its subject's most specific common name instead. Its refusals use ZooKeeper's words.
 */
public final class CertificateHostCheck {
    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;

    private CertificateHostCheck() {
    }

    /** Returns quietly when the certificate names {@code host}, else says why not. */
    public static void verify(String host, X509Certificate certificate) throws CertificateException {
        boolean ipv4 = host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        boolean ipv6 = !ipv4 && bare.contains(":");
        List<List<?>> alternatives = alternativeNames(certificate);
        if (alternatives.isEmpty()) {
            String commonName = commonName(certificate.getSubjectX500Principal());
            if (commonName == null) {
                throw new CertificateException("Certificate subject for <" + host
                        + "> doesn't contain a common name and does not have alternative names");
            }
            if (!(ipv4 || ipv6 ? bare.equals(commonName) : matches(host, commonName))) {
                throw new CertificateException("Certificate for <" + host
                        + "> doesn't match common name of the certificate subject: " + commonName);
            }
            return;
        }
        List<String> candidates = new ArrayList<>();
        for (List<?> name : alternatives) {
            int type = (Integer) name.get(0);
            String value = String.valueOf(name.get(1));
            if ((ipv4 || ipv6) && type == IP_ADDRESS) {
                candidates.add(value);
                if (ipv4 ? value.equals(host) : sameAddress(bare, value)) return;
            } else if (!ipv4 && !ipv6 && type == DNS_NAME) {
                candidates.add(value);
                if (matches(host, value)) return;
            }
        }
        throw new CertificateException("Certificate for <" + host
                + "> doesn't match any of the subject alternative names: " + candidates);
    }

    /**
     * ZKTrustManager's check of a peer (Apache ZooKeeper 3.8, the client Kafka 3.9 ships): the certificate must name
     * the peer's address, or else the peer's host name, which for an address written as digits is the reverse DNS
     * lookup's answer. Looks names up: not for a Netty event loop.
     */
    public static void verifyAddressThenName(InetAddress peer, X509Certificate certificate)
            throws CertificateException {
        try {
            verify(peer.getHostAddress(), certificate);
        } catch (CertificateException byAddress) {
            String name = peer.getHostName();
            try {
                verify(name, certificate);
            } catch (CertificateException byName) {
                CertificateException both = new CertificateException("Failed to verify both host address and host "
                        + "name: " + byAddress.getMessage() + "; " + byName.getMessage(), byName);
                both.addSuppressed(byAddress);
                throw both;
            }
        }
    }

    private static List<List<?>> alternativeNames(X509Certificate certificate) throws CertificateException {
        try {
            Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            return names == null ? List.of() : List.copyOf(names);
        } catch (CertificateParsingException e) {
            throw new CertificateException("cannot read the certificate's subject alternative names", e);
        }
    }

    /** The last (most specific) CN of the subject, as HttpClient's extractCN. */
    private static String commonName(X500Principal subject) throws CertificateException {
        try {
            List<Rdn> rdns = new LdapName(subject.getName(X500Principal.RFC2253)).getRdns();
            // LdapName lists the RDNs from the least specific; the last CN is the most specific.
            String found = null;
            for (Rdn rdn : rdns) {
                if (rdn.getType().equalsIgnoreCase("cn") && rdn.getValue() != null) found = rdn.getValue().toString();
            }
            return found;
        } catch (InvalidNameException e) {
            throw new CertificateException(subject + " is not a valid X500 distinguished name", e);
        }
    }

    /** A DNS name against a certificate's name, case aside; "*" in the first label matches within that label. */
    private static boolean matches(String host, String identity) {
        String h = host.toLowerCase(Locale.ROOT);
        String id = identity.toLowerCase(Locale.ROOT);
        int star = id.indexOf('*');
        if (star < 0) return h.equals(id);
        int firstDot = id.indexOf('.');
        if (star > firstDot && firstDot >= 0) return h.equals(id);
        String prefix = id.substring(0, star);
        String suffix = id.substring(star + 1);
        if (!h.startsWith(prefix) || !h.endsWith(suffix) || h.length() < prefix.length() + suffix.length()) {
            return false;
        }
        // Strict: the part the wildcard stands for holds no dot, so "*.example.com" does not match "a.b.example.com".
        return h.substring(prefix.length(), h.length() - suffix.length()).indexOf('.') < 0;
    }

    private static boolean sameAddress(String a, String b) {
        try {
            return InetAddress.getByName(a).equals(InetAddress.getByName(b));
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
