package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tandem.server.http.AdminHttp;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AdminServer's ensemble commands on three members: leader and voting_view as Apache 3.9 answers them, and the
 * commands that need a serving server refused, with Apache's error, by a member that has lost its quorum.
 */
class EnsembleAdminServerTest {
    @TempDir
    Path dir;

    @Test
    void shouldReportTheLeaderAndTheVotersAndRefuseWhileLooking() throws Exception {
        try (TestEnsemble ensemble = new TestEnsemble(dir)) {
            ensemble.extraSettings.put("admin.serverPort", "0");
            ensemble.extraSettings.put("4lw.commands.whitelist", "srvr,hash,mntr,stat,conf,cons,dirs,wchs,isro,ruok");
            ensemble.startAll();
            int leader = ensemble.awaitServing(30_000);
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                int port = ensemble.node(id).adminPort();
                JsonNode answer = AdminHttp.command(port, "leader");
                assertTrue(answer.get("error").isNull(), answer.toString());
                assertEquals(id == leader, answer.get("is_leader").asBoolean(), answer.toString());
                assertEquals(leader, answer.get("leader_id").asInt());
                assertEquals("127.0.0.1", answer.get("leader_ip").asText());
                JsonNode view = AdminHttp.command(port, "voting_view").get("current_config");
                assertEquals(TestEnsemble.SIZE, view.size(), view.toString());
                JsonNode own = view.get(Integer.toString(id));
                assertEquals("participant", own.get("learner_type").asText());
                assertTrue(own.get("server_addresses").get(0).asText().startsWith("127.0.0.1:"), own.toString());
                assertEquals(1, own.get("election_addresses").size());
                assertEquals("", own.get("client_address").asText());
                assertEquals(id == leader ? "leader" : "follower",
                        AdminHttp.command(port, "mntr").get("server_state").asText());
                assertEquals(id, AdminHttp.command(port, "conf").get("server_id").asInt());
                // zabstate: a serving member is in Zab's broadcast phase, with its own addresses and last zxid.
                JsonNode zab = AdminHttp.command(port, "zabstate");
                assertEquals("broadcast", zab.get("zabstate").asText(), zab.toString());
                assertEquals(id, zab.get("myid").asInt());
                assertEquals(id == leader, zab.get("is_leader").asBoolean());
                assertTrue(zab.get("voting").asBoolean());
                assertEquals(own.get("server_addresses").get(0).asText(), zab.get("quorum_address").get("one")
                        .asText());
                assertEquals(own.get("election_addresses").get(0).asText(), zab.get("election_address")
                        .get("one").asText());
                assertTrue(zab.get("last_zxid").asText().matches("0x[0-9a-f]+"), zab.toString());
                assertTrue(zab.get("zab_epoch").asLong() > 0, zab.toString());
                // observers: no observer in this ensemble, so none synced with the leader, and a follower has none
                // (Apache's answer without observerMasterPort).
                JsonNode observers = AdminHttp.command(port, "obsr");
                assertTrue(observers.get("error").isNull(), observers.toString());
                assertEquals(0, observers.get("synced_observers").asInt(), observers.toString());
                assertEquals(0, observers.get("observers").size(), observers.toString());
                // Apache's quorum servers keep no initial configuration (null).
                assertTrue(AdminHttp.command(port, "icfg").get("initial_configuration").isNull());
            }
            // Two members stopped: the last one has no quorum and serves nothing, as Apache's would not.
            int survivor = leader == 1 ? 2 : 1;
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                if (id != survivor) ensemble.stop(id);
            }
            int port = ensemble.node(survivor).adminPort();
            long deadline = System.currentTimeMillis() + 30_000;
            JsonNode ruok;
            do {
                ruok = AdminHttp.command(port, "ruok");
            } while (ruok.get("error").isNull() && System.currentTimeMillis() < deadline);
            assertEquals("This ZooKeeper instance is not currently serving requests", ruok.get("error").asText());
            assertEquals("looking", AdminHttp.command(port, "mntr").get("server_state").asText(),
                    "monitor needs no serving server");
            // zabstate needs no serving server either; a looking peer has no quorum server to report (Apache's).
            JsonNode zab = AdminHttp.command(port, "zabstate");
            assertEquals("", zab.get("zabstate").asText(), zab.toString());
            assertEquals(false, zab.get("voting").asBoolean());
            // The hash word has no running server to ask either: Apache's words, without a newline.
            assertEquals("This ZooKeeper instance is not currently serving requests",
                    TestEnsemble.fourLetterWord(ensemble.node(survivor).zookeeperPort(), "hash", 2_000));
            // The words that read a running server's state answer Apache's line (with its newline); the others
            // answer as ever (Apache's StatCommand, MonitorCommand, ConfCommand, ... check isZKServerRunning()).
            int clientPort = ensemble.node(survivor).zookeeperPort();
            for (String word : List.of("srvr", "mntr", "stat", "conf", "cons", "dirs", "wchs")) {
                assertEquals("This ZooKeeper instance is not currently serving requests\n",
                        TestEnsemble.fourLetterWord(clientPort, word, 2_000), word);
            }
            assertEquals("imok", TestEnsemble.fourLetterWord(clientPort, "ruok", 2_000));
            assertEquals("null", TestEnsemble.fourLetterWord(clientPort, "isro", 2_000));
        }
    }

    @Test
    void shouldListOnlyVotersAndReportTheObserversAndReadOnlyStates() throws Exception {
        try (TestEnsemble ensemble = new TestEnsemble(dir, 1)) {
            ensemble.extraSettings.put("admin.serverPort", "0");
            ensemble.extraSettings.put("readonlymode.enabled", "true");
            ensemble.startAll();
            int leader = ensemble.awaitServing(30_000);
            int observerPort = ensemble.node(TestEnsemble.SIZE + 1).adminPort();
            assertEquals("observer", AdminHttp.command(observerPort, "mntr").get("server_state").asText());
            assertEquals(false, AdminHttp.command(observerPort, "leader").get("is_leader").asBoolean());
            JsonNode view = AdminHttp.command(observerPort, "voting_view").get("current_config");
            assertEquals(TestEnsemble.SIZE, view.size(), "Apache's voting view holds no observer: " + view);
            assertEquals(false, AdminHttp.command(observerPort, "is_read_only").get("read_only").asBoolean());
            JsonNode zab = AdminHttp.command(observerPort, "zabstate");
            assertEquals("broadcast", zab.get("zabstate").asText(), zab.toString());
            assertEquals(false, zab.get("voting").asBoolean(), "an observer does not vote");

            // Only one voter left: after max(2 s, tickTime) it and the observer serve read-only clients.
            int survivor = leader == 1 ? 2 : 1;
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                if (id != survivor) ensemble.stop(id);
            }
            for (int id : new int[] {survivor, TestEnsemble.SIZE + 1}) {
                int port = ensemble.node(id).adminPort();
                long deadline = System.currentTimeMillis() + 20_000;
                String state;
                do {
                    state = AdminHttp.command(port, "mntr").get("server_state").asText();
                } while (!state.equals("read-only") && System.currentTimeMillis() < deadline);
                assertEquals("read-only", state, "member " + id);
                assertEquals(true, AdminHttp.command(port, "is_read_only").get("read_only").asBoolean());
            }
        }
    }
}
