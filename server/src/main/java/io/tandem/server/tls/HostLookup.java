package io.tandem.server.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * How a host name becomes an address for a peer's host check or a dial. It blocks on DNS, so it is called only
 * from {@link HandshakeTasks}' threads, never from a Netty event loop; tests give one that is slow or records its
 * thread.
 */
@FunctionalInterface
public interface HostLookup {
    /** The JDK's resolver (its positive answers cached for the JVM's networkaddress.cache.ttl). */
    HostLookup SYSTEM = InetAddress::getByName;

    /** The address of {@code host} (a literal address is parsed, never looked up), with that name attached. */
    InetAddress byName(String host) throws UnknownHostException;
}
