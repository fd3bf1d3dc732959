package io.tandem.server.zookeeper;

import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import java.util.ArrayList;
import java.util.List;

/**
 * Authentication and authorization of the AdminServer commands that need them (snapshot and restore), as Apache 3.9's
 * {@code Commands.runCommand}: the {@code Authorization} header is {@code <scheme>[ <auth>]}; the scheme's server
 * provider turns it into ids, and the ids must be granted every permission bit the command asks for by the ACL of its
 * node (all of them on "/"), each bit checked on its own. Schemes: {@code digest user:password} (with the super digest
 * adding {@code super}, as Apache's DigestAuthenticationProvider does) and {@code ip} (the peer's address). Apache's
 * {@code x509} needs the client certificate of an HTTPS AdminServer, which Tandem does not serve, so it never
 * authenticates here, as on Apache's plain-HTTP AdminServer; any other scheme names no provider: "Not authenticated".
 * Refusals carry Apache's words and statuses: 401 for a missing header or failed authentication, 403 when the ACL does
 * not grant, 500 when the check itself failed.
 */
final class AdminAuth {
    static final String MISSING = "Auth info is missing for the command";
    static final String NOT_AUTHENTICATED = "Not authenticated";
    static final String NOT_AUTHORIZED = "Not authorized";
    static final String FAILED = "Error occurred during auth";
    static final int UNAUTHORIZED = 401;
    static final int FORBIDDEN = 403;
    static final int INTERNAL_ERROR = 500;

    /** What a command asks for: Apache's AuthRequest (permission bits on a path). */
    record Requirement(int perms, String path) {
        static final Requirement ALL_ON_ROOT = new Requirement(Perms.ALL, "/");
    }

    /** The caller as the AdminServer saw it: the raw {@code Authorization} header (null when absent) and its IP. */
    record Caller(String authorization, String remoteIp) {
        static final Caller NONE = new Caller(null, null);
    }

    /** Thrown with Apache's status and words when a caller is refused. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private AdminAuth() {
    }

    /** Apache's handleAuthentication: the ids the header proves, or Refused (401). */
    static List<Id> authenticate(Caller caller, String superDigest) throws Refused {
        if (caller.authorization() == null) throw new Refused(UNAUTHORIZED, MISSING);
        String[] parts = caller.authorization().split(" ");
        if (parts.length != 1 && parts.length != 2) throw new Refused(UNAUTHORIZED, NOT_AUTHENTICATED);
        String auth = parts.length == 2 ? parts[1] : null;
        List<Id> ids = new ArrayList<>();
        switch (parts[0]) {
            case "digest" -> {
                // Apache's provider fails on a missing credential (its runtime exception becomes AuthFailed).
                if (auth == null) throw new Refused(UNAUTHORIZED, NOT_AUTHENTICATED);
                String digest = Acls.digest(auth);
                if (digest.equals(superDigest)) ids.add(new Id("super", ""));
                ids.add(new Id("digest", digest));
            }
            case "ip" -> {
                if (caller.remoteIp() != null) ids.add(new Id("ip", caller.remoteIp()));
            }
            default -> throw new Refused(UNAUTHORIZED, NOT_AUTHENTICATED);
        }
        if (ids.isEmpty()) throw new Refused(UNAUTHORIZED, NOT_AUTHENTICATED);
        return ids;
    }

    /**
     * Apache's handleAuthorization, on the commit thread (it reads the node's ACL): every bit of the requirement must
     * be granted on its own; a missing node is a failed check (500), as Apache's NoNodeException is.
     */
    static void authorize(DataTree tree, List<Id> ids, Requirement requirement) throws Refused {
        DataNode node = tree.getNode(requirement.path());
        if (node == null) throw new Refused(INTERNAL_ERROR, FAILED);
        List<ACL> acl = node.acl;
        int perms = requirement.perms();
        for (int bit = 0; bit < Integer.SIZE - Integer.numberOfLeadingZeros(perms); bit++) {
            int permBit = 1 << bit;
            if ((perms & permBit) == 0) continue;
            try {
                Acls.check(acl, permBit, ids);
            } catch (ZkException e) {
                throw new Refused(FORBIDDEN, NOT_AUTHORIZED);
            }
        }
    }
}
