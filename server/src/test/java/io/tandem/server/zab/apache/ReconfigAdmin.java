package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * How the process tests that reconfigure get the right to: Apache answers a reconfig only to a client allowed to
 * write /zookeeper/config, which nobody is by default, so every member runs with reconfig on and one digest super
 * user, and the tests' admin clients authenticate as that user.
 */
final class ReconfigAdmin {
    private static final String SUPER = "super:secret";

    private ReconfigAdmin() {
    }

    /** The settings every member of such an ensemble needs: reconfig enabled and the super user's digest. */
    static List<String> settings() throws NoSuchAlgorithmException {
        return List.of("reconfigEnabled=true",
                "DigestAuthenticationProvider.superDigest=" + DigestAuthenticationProvider.generateDigest(SUPER));
    }

    /** {@code first}, then {@link #settings()}: an ensemble's own settings with the right to reconfigure it. */
    static List<String> settings(List<String> first) throws NoSuchAlgorithmException {
        List<String> all = new ArrayList<>(first);
        all.addAll(settings());
        return all;
    }

    /** An incremental reconfig adding (or changing) {@code line}, asked of {@code member}; returns the new config. */
    static String reconfigure(Ports member, String line) throws Exception {
        try (ZooKeeperAdmin admin = connect(member)) {
            return ReconfigChecks.text(admin.reconfigure(line, null, null, -1, null));
        }
    }

    /** A connected admin client of {@code member}, authenticated as the super user. */
    static ZooKeeperAdmin connect(Ports member) throws Exception {
        ZooKeeperAdmin admin = new ZooKeeperAdmin("127.0.0.1:" + member.clientPort(),
                TandemApacheModeProcess.SESSION_TIMEOUT_MS, e -> { });
        try {
            ZkClients.awaitConnected(admin);
            admin.addAuthInfo("digest", SUPER.getBytes(StandardCharsets.UTF_8));
            return admin;
        } catch (Exception | Error e) {
            admin.close();
            throw e;
        }
    }
}
