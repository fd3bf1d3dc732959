package io.tandem.kafka.wire.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;

class GzipInputTest {

    /** A real inflater that counts how often it is ended. */
    private static final class CountingInflater extends Inflater {
        int ends;

        CountingInflater() {
            super(true);
        }

        @Override
        public void end() {
            ends++;
            super.end();
        }
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] payload(int size) {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        // half random, half repetitive, so the deflate stream has both stored-ish and compressed blocks
        Arrays.fill(data, size / 2, size, (byte) 'k');
        return data;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] drain(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[777];
        int read;
        while ((read = in.read(buffer, 0, buffer.length)) >= 0) {
            out.write(buffer, 0, read);
        }
        return out.toByteArray();
    }

    @Test
    void shouldEndTheInflaterAtOnceWhenTheHeaderIsMalformed() throws IOException {
        byte[] notGzip = "this is not a gzip header at all".getBytes(StandardCharsets.US_ASCII);
        CountingInflater inflater = new CountingInflater();
        assertThrows(IOException.class, () -> new GzipInput(Unpooled.wrappedBuffer(notGzip), inflater));
        assertEquals(1, inflater.ends);

        byte[] headerOnly = Arrays.copyOf(gzip(new byte[0]), 5);
        CountingInflater truncatedHeader = new CountingInflater();
        assertThrows(IOException.class, () -> new GzipInput(Unpooled.wrappedBuffer(headerOnly), truncatedHeader));
        assertEquals(1, truncatedHeader.ends);
    }

    @Test
    void shouldEndTheInflaterAtOnceWhenTheStreamIsTruncated() throws IOException {
        byte[] valid = gzip(payload(100_000));
        for (int cut : new int[] {12, valid.length / 2, valid.length - 3}) {
            CountingInflater inflater = new CountingInflater();
            GzipInput in = new GzipInput(Unpooled.wrappedBuffer(Arrays.copyOf(valid, cut)), inflater);
            assertThrows(IOException.class, () -> drain(in));
            assertEquals(1, inflater.ends, "ended by the failure itself, before any close (cut at " + cut + ")");
            assertThrows(IOException.class, () -> in.read(new byte[10], 0, 10));
            in.close();
            assertEquals(1, inflater.ends);
        }
    }

    @Test
    void shouldEndTheInflaterAtOnceWhenTheDataIsCorruptMidStream() throws IOException {
        byte[] corrupt = gzip(payload(100_000));
        // a deflate block type of 3 is reserved: the inflater reports a data format error
        corrupt[10] = (byte) 0x07;
        CountingInflater inflater = new CountingInflater();
        GzipInput in = new GzipInput(Unpooled.wrappedBuffer(corrupt), inflater);
        assertThrows(IOException.class, () -> drain(in));
        assertEquals(1, inflater.ends);

        byte[] badTrailer = gzip(payload(5_000));
        badTrailer[badTrailer.length - 6] ^= 1;
        CountingInflater trailerInflater = new CountingInflater();
        GzipInput trailerIn = new GzipInput(Unpooled.wrappedBuffer(badTrailer), trailerInflater);
        assertThrows(IOException.class, () -> drain(trailerIn));
        assertEquals(1, trailerInflater.ends);
    }

    @Test
    void shouldEndTheInflaterAtTheEndOfTheDataAndOnceOnly() throws IOException {
        byte[] data = payload(50_000);
        CountingInflater inflater = new CountingInflater();
        GzipInput in = new GzipInput(Unpooled.wrappedBuffer(gzip(data)), inflater);
        assertArrayEquals(data, drain(in));
        assertEquals(1, inflater.ends, "ended when the data ran out, before any close");
        assertEquals(-1, in.read());
        in.close();
        in.close();
        assertEquals(1, inflater.ends);

        CountingInflater abandoned = new CountingInflater();
        GzipInput abandonedIn = new GzipInput(Unpooled.wrappedBuffer(gzip(data)), abandoned);
        abandonedIn.read(new byte[100], 0, 100);
        abandonedIn.close();
        assertEquals(1, abandoned.ends);
    }

    /** The JDK's reader, as Kafka's broker reads gzip batches. */
    private static Object jdkOutcome(byte[] input) {
        try (InputStream in = new GZIPInputStream(new ByteBufInputStream(Unpooled.wrappedBuffer(input)),
                Compression.GZIP_BUFFER_BYTES)) {
            return Arrays.toString(drain(in));
        } catch (IOException e) {
            return e.getClass();
        }
    }

    private static Object ourOutcome(byte[] input) {
        try (InputStream in = GzipInput.open(Unpooled.wrappedBuffer(input))) {
            return Arrays.toString(drain(in));
        } catch (IOException e) {
            return e.getClass();
        }
    }

    @Test
    void shouldAcceptAndRefuseExactlyWhatGzipInputStreamDoes() throws IOException {
        byte[] first = gzip(payload(20_000));
        byte[] second = gzip("second member".getBytes(StandardCharsets.US_ASCII));
        // every optional header field: FHCRC | FEXTRA | FNAME | FCOMMENT over an empty deflate stream
        byte[] fancyHeader = {0x1f, (byte) 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, (byte) 0xff, 3, 0, 'x', 'y', 'z',
            'n', 0, 'c', 0};
        java.util.zip.CRC32 headerCrc = new java.util.zip.CRC32();
        headerCrc.update(fancyHeader);
        byte[] emptyDeflateAndTrailer = Arrays.copyOfRange(gzip(new byte[0]), 10, 20);
        byte[] fancy = concat(fancyHeader,
                new byte[] {(byte) headerCrc.getValue(), (byte) (headerCrc.getValue() >> 8)}, emptyDeflateAndTrailer);
        byte[] badHeaderCrc = fancy.clone();
        badHeaderCrc[fancyHeader.length] ^= 1;

        Random random = new Random(24);
        java.util.List<byte[]> inputs = new java.util.ArrayList<>(Arrays.asList(
                first, concat(first, second), concat(second, second, second), fancy, concat(fancy, first),
                badHeaderCrc, new byte[0]));
        // bytes after the last member: the JDK ignores garbage, but only looks at short tails in some positions
        for (int tail : new int[] {1, 9, 10, 18, 19, 20, 30, 9000}) {
            byte[] garbage = new byte[tail];
            random.nextBytes(garbage);
            inputs.add(concat(first, garbage));
            inputs.add(concat(second, garbage));
            inputs.add(concat(second, Arrays.copyOf(second, Math.min(tail, second.length))));
            inputs.add(concat(first, Arrays.copyOf(first, Math.min(tail, first.length))));
        }
        // a member whose trailer straddles the inflater's input chunks
        for (int size = Compression.GZIP_BUFFER_BYTES - 60; size < Compression.GZIP_BUFFER_BYTES; size++) {
            byte[] incompressible = new byte[size];
            random.nextBytes(incompressible);
            inputs.add(concat(gzip(incompressible), Arrays.copyOf(second, 15)));
            inputs.add(concat(gzip(incompressible), second));
        }
        for (int trial = 0; trial < 150; trial++) {
            byte[] damaged = concat(first, second);
            damaged[random.nextInt(damaged.length)] ^= (byte) (1 + random.nextInt(255));
            inputs.add(trial % 2 == 0 ? damaged : Arrays.copyOf(damaged, random.nextInt(damaged.length)));
        }
        for (byte[] input : inputs) {
            assertEquals(jdkOutcome(input), ourOutcome(input), () -> "input of " + input.length + " bytes");
        }
    }
}
