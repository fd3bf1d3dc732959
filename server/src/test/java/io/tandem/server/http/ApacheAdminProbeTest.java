package io.tandem.server.http;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.admin.JettyAdminServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApacheAdminProbeTest {
    @TempDir
    Path dir;

    @Test
    void probe() throws Exception {
        ZooKeeperServer zk = new ZooKeeperServer(dir.resolve("s").toFile(), dir.resolve("l").toFile(), 2000);
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        factory.startup(zk);
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) { port = s.getLocalPort(); }
        JettyAdminServer admin = new JettyAdminServer("127.0.0.1", port, 30000, "/commands", 1, false, false, false);
        admin.setZooKeeperServer(zk);
        admin.start();
        HttpClient http = HttpClient.newHttpClient();
        try {
            for (String c : new String[] {"hash", "icfg", "lsnp", "orst", "obsr", "zabstate", "snapshot",
                    "snapshot?streaming=false", "restore", "ruok"}) {
                for (String auth : new String[] {null, "digest u:p", "bogus x", "digest", "ip", "x509"}) {
                    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/commands/" + c));
                    if (auth != null) b.header("Authorization", auth);
                    HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                    String body = r.headers().firstValue("Content-Type").orElse("").contains("json")
                            ? new String(r.body()) : ("<" + r.body().length + " bytes>");
                    System.out.println("PROBE GET " + c + " auth=" + auth + " -> " + r.statusCode() + " " + r.headers().map()
                            + "\n" + body);
                    if (!c.startsWith("snapshot") && !c.equals("restore")) break;
                }
            }
            HttpResponse<byte[]> snap = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/commands/snapshot")).header("Authorization", "digest u:p").build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            System.out.println("PROBE snap again " + snap.statusCode() + " " + snap.body().length);
            for (String c : new String[] {"restore", "rest", "ruok"}) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/commands/" + c)).header("Authorization", "digest u:p")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {1, 2, 3})).build(),
                        HttpResponse.BodyHandlers.ofString());
                System.out.println("PROBE POST " + c + " -> " + r.statusCode() + " " + r.headers().map() + "\n" + r.body());
            }
        } finally {
            admin.shutdown();
            factory.shutdown();
            zk.shutdown();
        }
    }
}
