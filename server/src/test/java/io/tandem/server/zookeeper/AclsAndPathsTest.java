package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.PathValidation;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import java.util.List;
import org.apache.zookeeper.common.PathUtils;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.Test;

/** ACL checks and fix-ups, digests and path rules, cross-checked with Apache's classes where they exist. */
class AclsAndPathsTest {
    @Test
    void shouldComputeDigestLikeApache() throws Exception {
        assertEquals(DigestAuthenticationProvider.generateDigest("user:pass"), Acls.digest("user:pass"));
        assertEquals(DigestAuthenticationProvider.generateDigest("a:b:c"), Acls.digest("a:b:c"));
    }

    @Test
    void shouldMatchIpAclsByAddressAndPrefix() {
        List<Id> caller = List.of(new Id("ip", "10.1.2.3"));
        assertDoesNotThrow(() -> Acls.check(List.of(new ACL(1, new Id("ip", "10.1.0.0/16"))), 1, caller));
        assertDoesNotThrow(() -> Acls.check(List.of(new ACL(1, new Id("ip", "10.1.2.3"))), 1, caller));
        assertThrows(ZkException.class, () -> Acls.check(List.of(new ACL(1, new Id("ip", "10.2.0.0/16"))), 1, caller));
        assertThrows(ZkException.class, () -> Acls.check(List.of(new ACL(2, new Id("ip", "10.1.2.3"))), 1, caller),
                "the permission bit must match too");
    }

    @Test
    void shouldExpandAuthToCallerDigestIdsAndRejectInvalidAcls() throws Exception {
        List<Id> caller = List.of(new Id("ip", "127.0.0.1"), new Id("digest", "u:hash"));
        List<ACL> fixed = Acls.fixup("/p", caller, List.of(new ACL(31, new Id("auth", ""))));
        assertEquals(List.of(new ACL(31, new Id("digest", "u:hash"))), fixed);
        ZkException noAuthIds = assertThrows(ZkException.class,
                () -> Acls.fixup("/p", List.of(new Id("ip", "127.0.0.1")), List.of(new ACL(31, new Id("auth", "")))));
        assertEquals(KeeperCode.INVALID_ACL.code(), noAuthIds.code());
        assertThrows(ZkException.class, () -> Acls.fixup("/p", caller, List.of(new ACL(31, new Id("world", "x")))));
        assertThrows(ZkException.class, () -> Acls.fixup("/p", caller, List.of(new ACL(31, new Id("digest", "nocolon")))));
        assertThrows(ZkException.class, () -> Acls.fixup("/p", caller, List.of()));
        assertEquals(1, Acls.fixup("/p", caller, List.of(new ACL(1, new Id("world", "anyone")),
                new ACL(1, new Id("world", "anyone")))).size(), "duplicates are dropped");
    }

    @Test
    void shouldLetSuperThroughAndTreatEmptyAclAsOpen() {
        assertDoesNotThrow(() -> Acls.check(List.of(new ACL(1, new Id("digest", "x:y"))), 1,
                List.of(new Id("super", ""))));
        assertDoesNotThrow(() -> Acls.check(List.of(), 16, List.of()));
    }

    @Test
    void shouldValidatePathsExactlyAsApache() {
        for (String path : List.of("/", "/a", "/a/b", "/a.b", "/.a", "/a..", "/a/./b", "/a/../b", "/a//b", "a", "",
                "/a/", "/a\u0000b", "/a\u0001", "/\u007f", "/\ud800", "/\ufff5", "/..", "/.", "/a/.", "/ok_-~")) {
            boolean apache;
            try {
                PathUtils.validatePath(path);
                apache = true;
            } catch (IllegalArgumentException e) {
                apache = false;
            }
            assertEquals(apache, PathValidation.isValid(path), "path " + path);
        }
        assertTrue(PathValidation.isValid("/zookeeper"));
        assertFalse(PathValidation.isValid(null));
    }
}
