package io.tandem.zk.client;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed ZooKeeper connect string: {@code host:port[,host:port...][/chroot]}, as Apache's ConnectStringParser reads
 * it (port defaults to 2181; IPv6 hosts in brackets).
 */
public record ConnectString(List<InetSocketAddress> hosts, String chroot) {

    private static final int DEFAULT_PORT = 2181;

    public static ConnectString parse(String connectString) {
        String hostsPart = connectString;
        String chroot = null;
        int slash = connectString.indexOf('/');
        if (slash >= 0) {
            hostsPart = connectString.substring(0, slash);
            String path = connectString.substring(slash);
            if (path.length() > 1) {
                io.tandem.zk.wire.PathValidation.requireValid(path);
                chroot = path;
            }
        }
        List<InetSocketAddress> hosts = new ArrayList<>();
        for (String host : hostsPart.split(",")) {
            host = host.trim();
            if (host.isEmpty()) {
                continue;
            }
            int port = DEFAULT_PORT;
            int colon = host.lastIndexOf(':');
            boolean bracketed = host.startsWith("[");
            if (colon >= 0 && (!bracketed || colon > host.indexOf(']'))) {
                port = Integer.parseInt(host.substring(colon + 1));
                host = host.substring(0, colon);
            }
            if (bracketed && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            hosts.add(InetSocketAddress.createUnresolved(host, port));
        }
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("no host in connect string \"" + connectString + "\"");
        }
        return new ConnectString(List.copyOf(hosts), chroot);
    }

    /** The server-side path of a client path. */
    String serverPath(String clientPath) {
        if (chroot == null) {
            return clientPath;
        }
        return clientPath.equals("/") ? chroot : chroot + clientPath;
    }

    /** The client-side path of a server path (watch events, created node names). */
    String clientPath(String serverPath) {
        if (chroot == null || serverPath == null) {
            return serverPath;
        }
        if (serverPath.equals(chroot)) {
            return "/";
        }
        return serverPath.startsWith(chroot + "/") ? serverPath.substring(chroot.length()) : serverPath;
    }
}
