package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The start-up the mixed-ensemble process tests share: the ports of members 1 to 3, one of them the Tandem member
 * ({@link TandemApacheModeProcess}) and the others Apache ZooKeeper ({@link ApacheQuorumProcess}), each started under
 * its own folder of the test's directory with the others as its ensemble, and the wait for the Tandem member's mode.
 */
final class MixedEnsemble {
    /** Apache's maxSessionTimeout raised to the Tandem member's, so that sessions outlive a failover there too. */
    private static final List<String> APACHE_SETTINGS =
            List.of("maxSessionTimeout=" + TandemApacheModeProcess.SESSION_TIMEOUT_MS);

    /**
     * The settings both kinds of member take in the tests that read mntr: Apache's session limit raised to the Tandem
     * member's, and mntr answered beside srvr.
     */
    static final List<String> MNTR_SETTINGS = List.of("maxSessionTimeout=" + TandemApacheModeProcess.SESSION_TIMEOUT_MS,
            "4lw.commands.whitelist=srvr,mntr");

    private final Path temp;
    private final List<String> apacheSettings;
    private final Ports[] all;
    /** The Tandem member's ports. */
    final Ports tandem;

    /** Members 1 to 3 on fresh ports, {@code tandemSid} the Tandem one, their folders under {@code temp}. */
    MixedEnsemble(Path temp, long tandemSid) throws IOException {
        this(temp, tandemSid, APACHE_SETTINGS);
    }

    private MixedEnsemble(Path temp, long tandemSid, List<String> apacheSettings) throws IOException {
        this.temp = temp;
        this.apacheSettings = apacheSettings;
        this.all = new Ports[] {Ports.fresh(1), Ports.fresh(2), Ports.fresh(3)};
        this.tandem = ports(tandemSid);
    }

    /**
     * As {@link #MixedEnsemble(Path, long)}, the Apache members on Apache's own settings: for the interop tests, whose
     * Tandem member runs in the test's JVM ({@link ApacheElection}, {@link ApacheQuorumPeer}) and serves no clients.
     */
    static MixedEnsemble withApacheDefaults(Path temp, long tandemSid) throws IOException {
        return new MixedEnsemble(temp, tandemSid, List.of());
    }

    /** As {@link #MixedEnsemble(Path, long)}, the Apache members with {@code more} zoo.cfg lines too. */
    static MixedEnsemble withApacheSettings(Path temp, long tandemSid, List<String> more) throws IOException {
        List<String> settings = new java.util.ArrayList<>(APACHE_SETTINGS);
        settings.addAll(more);
        return new MixedEnsemble(temp, tandemSid, settings);
    }

    Ports ports(long sid) {
        return all[(int) sid - 1];
    }

    /** Every member, as the Tandem member's election and quorum peer take them. */
    Map<Long, ApacheElection.Member> members() {
        return ApacheQuorumProcess.members(all);
    }

    /** Starts Apache member {@code sid} on its folder (named by its sid, so a restart finds its data). */
    ApacheQuorumProcess startApache(long sid) throws IOException {
        return startApache(sid, Long.toString(sid));
    }

    /** Starts Apache member {@code sid} on the folder {@code folder} (a new one: it starts empty-handed). */
    ApacheQuorumProcess startApache(long sid, String folder) throws IOException {
        return ApacheQuorumProcess.start(temp.resolve(folder), apacheSettings, ports(sid), all);
    }

    /** Starts the Tandem member on the folder {@code tandem}; {@code jvmOptions} and {@code settings} added. */
    TandemApacheModeProcess startTandem(List<String> jvmOptions, List<String> settings) throws IOException {
        return TandemApacheModeProcess.start(temp.resolve("tandem"), jvmOptions, settings, tandem, all);
    }

    /** The Tandem member's folder, as {@link #startTandem} uses it. */
    Path tandemDir() {
        return temp.resolve("tandem");
    }

    /** What the Tandem member's {@code srvr} says it is ("leader", "follower"), or "down". */
    String tandemMode() {
        return ApacheQuorumProcess.modeAt(tandem.clientPort());
    }

    /** Waits until the Tandem member says it is {@code mode}; fails with its log's tail otherwise. */
    void awaitTandem(TandemApacheModeProcess member, String mode) throws InterruptedException {
        assertTrue(ApacheQuorumProcess.await(() -> tandemMode().equals(mode), ZkClients.TIMEOUT_MS),
                () -> "the Tandem member is " + tandemMode() + ", never " + mode + ":\n" + member.logTail());
    }

    /**
     * Starts Apache member {@code sid} beside a Tandem member already listening and waits until Tandem leads it. With
     * equal (empty) histories fast leader election picks the highest sid of those that vote, so Tandem must have the
     * higher sid. Start the other Apache member only after this: two Apache members started together can make their
     * own quorum of two before Tandem's notification reaches them (a connection from a lower sid is dropped and
     * dialled back, and FLE waits only finalizeWait, 200 ms, for a better vote), and then the higher Apache sid leads.
     */
    ApacheQuorumProcess startApacheUnderTandem(TandemApacheModeProcess member, long sid)
            throws IOException, InterruptedException {
        ApacheQuorumProcess apache = startApache(sid);
        try {
            assertTrue(ApacheQuorumProcess.await(() -> apache.mode().equals("follower")
                    && tandemMode().equals("leader"), ZkClients.TIMEOUT_MS),
                    () -> "Tandem and Apache " + sid + " never settled: " + sid + "=" + apache.mode() + " Tandem="
                            + tandemMode() + "\nTandem log:\n" + member.logTail() + "\nApache " + sid + ":\n"
                            + apache.logTail());
        } catch (Error | InterruptedException e) {
            apache.kill();
            throw e;
        }
        return apache;
    }

    /** Waits until the Tandem member answers {@code srvr} at all (it listens before it has a leader). */
    void awaitTandemListening(TandemApacheModeProcess member) throws InterruptedException {
        assertTrue(ApacheQuorumProcess.await(() -> !tandemMode().equals("down"), ZkClients.TIMEOUT_MS),
                () -> "the Tandem member never listened:\n" + member.logTail());
    }
}
