"""Start-up probe: polls a Kafka port with a raw Metadata v0 request until one is answered, then prints the
milliseconds since the given spawn time (ns since the epoch, taken just before the server process was started)."""
import socket, struct, sys, time

host, port, spawned_ns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
client_id = b"tandem-probe"
# Metadata v0: api key 3, version 0, correlation id 1, client id, topics = [] (all topics).
body = struct.pack(">hhih", 3, 0, 1, len(client_id)) + client_id + struct.pack(">i", 0)
request = struct.pack(">i", len(body)) + body
deadline = time.time() + 120
while time.time() < deadline:
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            s.sendall(request)
            head = s.recv(8)
            if len(head) == 8 and struct.unpack(">i", head[4:8])[0] == 1:
                print((time.time_ns() - spawned_ns) / 1e6)
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.005)
print("no answer", file=sys.stderr)
sys.exit(1)
