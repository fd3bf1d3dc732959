package io.tandem.storage.zk;

import java.io.IOException;

/** Receives transactions replayed from a {@link TxnLog}, in zxid order. */
@FunctionalInterface
public interface TxnConsumer {
    void accept(long zxid, byte[] txn) throws IOException;
}
