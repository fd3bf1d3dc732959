package io.tandem.server.console;

/** Bounds on what one console request may ask for and send back, so no page can grow a response without limit. */
public final class ConsoleLimits {
    /** Records one message-browser request returns at most (the page asks for 20 by default). */
    public static final int MESSAGES_MAX = 200;
    /** Bytes of a record key or value shown; the rest is cut and the answer says how long it was. */
    public static final int VALUE_BYTES_SHOWN_MAX = 4096;
    /** Bytes of a record header value shown. */
    public static final int HEADER_BYTES_SHOWN_MAX = 1024;
    /** Headers shown per record. */
    public static final int HEADERS_SHOWN_MAX = 64;
    /** Bytes of a znode's data shown (znodes hold up to about 1 MB). */
    public static final int ZNODE_BYTES_SHOWN_MAX = 16 * 1024;
    /** Topics and groups listed (in name order); the answer gives the total. */
    public static final int LIST_ROWS_MAX = 2000;
    /** Children of a znode listed. */
    public static final int CHILDREN_SHOWN_MAX = 1000;
    /** How long the message browser keeps fetching before it answers with what it has. */
    public static final long FETCH_WAIT_MS_MAX = 2000;
    /** How long one Kafka request or ZooKeeper answer may take before the API answers with an error. */
    public static final long REQUEST_TIMEOUT_MS = 5000;

    private ConsoleLimits() {
    }
}
