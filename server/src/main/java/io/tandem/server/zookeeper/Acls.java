package io.tandem.server.zookeeper;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * ACL checks and fix-ups with Apache's schemes: world:anyone, auth (expanded to the caller's authenticated ids),
 * digest (user:base64(sha1(user:password))) and ip (address or address/bits). A "super" id bypasses every check.
 */
final class Acls {
    static final String SUPER_DIGEST_PROPERTY = "zookeeper.DigestAuthenticationProvider.superDigest";

    /** Throws NoAuth unless one of {@code ids} grants {@code perm} by {@code acl}; an empty ACL grants everything. */
    static void check(List<ACL> acl, int perm, List<Id> ids) throws ZkException {
        if (acl == null || acl.isEmpty()) {
            return;
        }
        // Indexed loops, not for-each: this runs for every write and read, and the iterators of the ACL list and of
        // the connection's id list were a tenth of the bytes a set allocated (docs/profiles/zk-writes.md). Both are
        // random-access lists (List.of/ArrayList and CopyOnWriteArrayList, whose get is a read of its array).
        int idCount = ids.size();
        for (int i = 0; i < idCount; i++) {
            if (ids.get(i).scheme().equals("super")) {
                return;
            }
        }
        int entries = acl.size();
        for (int e = 0; e < entries; e++) {
            ACL entry = acl.get(e);
            if ((entry.perms() & perm) == 0) {
                continue;
            }
            Id id = entry.id();
            if ("world".equals(id.scheme()) && "anyone".equals(id.id())) {
                return;
            }
            for (int i = 0; i < idCount; i++) {
                Id authId = ids.get(i);
                if (authId.scheme().equals(id.scheme()) && matches(id.scheme(), authId.id(), id.id())) {
                    return;
                }
            }
        }
        throw new ZkException(KeeperCode.NO_AUTH);
    }

    private static boolean matches(String scheme, String authId, String aclId) {
        return switch (scheme) {
            case "digest", "x509" -> authId.equals(aclId);
            // Apache's SASLAuthenticationProvider: an authenticated id "super" matches every sasl entry.
            case "sasl" -> authId.equals(aclId) || authId.equals("super");
            case "ip" -> ipMatches(authId, aclId);
            default -> false;
        };
    }

    /**
     * Apache's PrepRequestProcessor.fixupACL: drop duplicates, expand "auth" to the caller's authenticated ids and
     * reject empty lists, unknown schemes and malformed ids with InvalidACL.
     */
    static List<ACL> fixup(String path, List<Id> authInfo, List<ACL> acls) throws ZkException {
        return fixup(path, authInfo, acls, ZkSecurity.NONE);
    }

    /** As {@link #fixup(String, List, List)}, with the sasl and x509 schemes when {@code security} registers them. */
    static List<ACL> fixup(String path, List<Id> authInfo, List<ACL> acls, ZkSecurity security) throws ZkException {
        if (acls == null || acls.isEmpty()) {
            throw new ZkException(KeeperCode.INVALID_ACL, path);
        }
        List<ACL> unique = new ArrayList<>(new LinkedHashSet<>(acls));
        List<ACL> result = new ArrayList<>();
        for (ACL acl : unique) {
            Id id = acl.id();
            if (id == null || id.scheme() == null) {
                throw new ZkException(KeeperCode.INVALID_ACL, path);
            }
            if (id.scheme().equals("world") && "anyone".equals(id.id())) {
                result.add(acl);
            } else if (id.scheme().equals("auth")) {
                boolean authIdValid = false;
                for (Id caller : authInfo) {
                    // Only digest, sasl and x509 are "authenticated" providers; ip and super ids do not expand.
                    String scheme = caller.scheme();
                    if (scheme.equals("digest") || (!scheme.equals("ip") && security.hasScheme(scheme))) {
                        authIdValid = true;
                        result.add(new ACL(acl.perms(), caller));
                    }
                }
                if (!authIdValid) {
                    throw new ZkException(KeeperCode.INVALID_ACL, path);
                }
            } else if (isValid(id, security)) {
                result.add(acl);
            } else {
                throw new ZkException(KeeperCode.INVALID_ACL, path);
            }
        }
        return result;
    }

    private static boolean isValid(Id id, ZkSecurity security) {
        if (id.id() == null || !security.hasScheme(id.scheme())) {
            return false;
        }
        return switch (id.scheme()) {
            case "digest" -> id.id().split(":").length == 2;
            case "ip" -> parseIp(id.id()) != null;
            case "sasl" -> isKerberosName(id.id());
            case "x509" -> isDistinguishedName(id.id());
            default -> false;
        };
    }

    /**
     * Apache's KerberosName accepts {@code name}, {@code name@REALM} and {@code name/host@REALM}; anything else with an
     * '@' is an invalid sasl id.
     */
    private static boolean isKerberosName(String id) {
        return id.indexOf('@') < 0 || id.matches("[^/@]*(/[^/@]*)?@[^/@]*");
    }

    private static boolean isDistinguishedName(String id) {
        try {
            new javax.security.auth.x500.X500Principal(id);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** What a successful {@code addauth digest user:password} adds to the session. */
    static String digest(String idPassword) {
        String[] parts = idPassword.split(":", 2);
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA1").digest(idPassword.getBytes(StandardCharsets.UTF_8));
            return parts[0] + ":" + Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA1 is part of every JRE", e);
        }
    }

    /** Apache's getUserName: the user part of a digest id, the id itself otherwise. */
    static String userName(Id id) {
        if (id.scheme().equals("digest")) {
            int colon = id.id().indexOf(':');
            return colon < 0 ? id.id() : id.id().substring(0, colon);
        }
        return id.id();
    }

    private static boolean ipMatches(String address, String aclId) {
        byte[] remote = parseIp(address);
        Object[] parsed = parseIpWithBits(aclId);
        if (remote == null || parsed == null) {
            return false;
        }
        byte[] network = (byte[]) parsed[0];
        int bits = (Integer) parsed[1];
        if (network.length != remote.length) {
            return false;
        }
        for (int i = 0; i < network.length * 8 && i < bits; i++) {
            int mask = 0x80 >> (i % 8);
            if ((network[i / 8] & mask) != (remote[i / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    private static byte[] parseIp(String text) {
        Object[] parsed = parseIpWithBits(text);
        return parsed == null ? null : (byte[]) parsed[0];
    }

    /** Only literal addresses: no DNS look-up may ever happen on the commit thread. */
    private static Object[] parseIpWithBits(String text) {
        int slash = text.indexOf('/');
        String address = slash < 0 ? text : text.substring(0, slash);
        if (address.isEmpty() || !(address.indexOf(':') >= 0 || address.chars().allMatch(c -> c == '.' || Character.isDigit(c)))) {
            return null;
        }
        try {
            byte[] bytes = InetAddress.getByName(address).getAddress();
            int bits = bytes.length * 8;
            if (slash >= 0) {
                bits = Integer.parseInt(text.substring(slash + 1));
                if (bits < 0 || bits > bytes.length * 8) {
                    return null;
                }
            }
            return new Object[] {bytes, bits};
        } catch (UnknownHostException | NumberFormatException e) {
            return null;
        }
    }

    private Acls() {
    }
}
