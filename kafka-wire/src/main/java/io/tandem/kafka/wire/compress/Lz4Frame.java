package io.tandem.kafka.wire.compress;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/** Constants and shared codecs of the LZ4 frame format (lz4_Frame_format.md v1.5.1) as Kafka uses it. */
final class Lz4Frame {
    static final int MAGIC = 0x184D2204;
    /** The high bit of a block's size says the block is stored uncompressed. */
    static final int INCOMPRESSIBLE_BLOCK_MASK = 0x80000000;

    static final int FLG_VERSION_MASK = 0xC0;
    static final int FLG_VERSION_01 = 0x40;
    static final int FLG_BLOCK_INDEPENDENCE = 0x20;
    static final int FLG_BLOCK_CHECKSUM = 0x10;
    static final int FLG_CONTENT_SIZE = 0x08;
    static final int FLG_CONTENT_CHECKSUM = 0x04;
    static final int FLG_RESERVED = 0x02;
    static final int FLG_DICTIONARY_ID = 0x01;

    /** BD byte for 64 KiB blocks, Kafka's choice: small enough to keep per-stream buffers cheap. */
    static final int BD_64KB = 4 << 4;

    static final XXHash32 XXHASH = XXHashFactory.fastestInstance().hash32();

    /** Compression only ever reads bytes we produced, so the fastest implementation is safe to use. */
    static final LZ4Compressor COMPRESSOR = LZ4Factory.fastestInstance().fastCompressor();

    /**
     * Decompression reads untrusted producer bytes. The pure-Java safe decompressor is used on purpose: lz4-java's
     * Unsafe-based decompressors have had out-of-bounds bugs on crafted input (CVE-2025-12183).
     */
    static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.safeInstance().safeDecompressor();

    private Lz4Frame() {
    }

    /** Maximum block size in bytes for the BD byte's size code, or -1 if the code is not one the format defines. */
    static int blockBytesMax(int bd) {
        if ((bd & 0x8F) != 0) {
            return -1;
        }
        switch ((bd >> 4) & 0x07) {
            case 4: return 64 * 1024;
            case 5: return 256 * 1024;
            case 6: return 1024 * 1024;
            case 7: return 4 * 1024 * 1024;
            default: return -1;
        }
    }

    /** The header checksum byte: the second byte of xxHash32 over the descriptor. */
    static byte headerChecksum(byte[] bytes, int offset, int length) {
        return (byte) ((XXHASH.hash(bytes, offset, length, 0) >> 8) & 0xFF);
    }
}
