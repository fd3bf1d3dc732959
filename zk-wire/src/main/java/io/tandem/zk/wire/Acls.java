package io.tandem.zk.wire;

import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import java.util.List;

/** The well-known ids and ACLs of ZooKeeper (Apache's ZooDefs.Ids). */
public final class Acls {
    /** Matches every client: scheme "world", id "anyone". */
    public static final Id ANYONE_ID_UNSAFE = new Id("world", "anyone");
    /** Stands for the authenticated ids of the creating session when used in a create's ACL. */
    public static final Id AUTH_IDS = new Id("auth", "");

    public static final List<ACL> OPEN_ACL_UNSAFE = List.of(new ACL(Perms.ALL, ANYONE_ID_UNSAFE));
    public static final List<ACL> CREATOR_ALL_ACL = List.of(new ACL(Perms.ALL, AUTH_IDS));
    public static final List<ACL> READ_ACL_UNSAFE = List.of(new ACL(Perms.READ, ANYONE_ID_UNSAFE));

    private Acls() {
    }
}
