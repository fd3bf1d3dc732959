package io.tandem.bench.kafkawire;

import java.util.Arrays;

/**
 * A load-robust companion to {@link KafkaWireCodecBenchmark}: runs ours and theirs in alternating batches in one JVM,
 * so that load from other processes hits both sides alike, and prints per-op percentiles over the batches. JMH's
 * sequential runs cannot cancel that drift on a shared machine. Run: see docs/BENCHMARKS.md, section kafka-wire.
 */
public final class KafkaWireInterleaved {
    private static final int WARMUP_ROUNDS = 200;
    private static final int ROUNDS = 400;
    private static final int BATCH = 200;

    private KafkaWireInterleaved() {
    }

    public static void main(String[] args) {
        KafkaWireCodecBenchmark benchmark = new KafkaWireCodecBenchmark();
        benchmark.produceVersion = 9;
        benchmark.fetchVersion = 12;
        benchmark.setUp();
        Runnable[] cases = {benchmark::ourProduce, benchmark::theirProduce, benchmark::ourFetch, benchmark::theirFetch};
        String[] names = {"ourProduce", "theirProduce", "ourFetch", "theirFetch"};
        long[][] nanosPerOp = new long[cases.length][ROUNDS];
        for (int round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
            for (int c = 0; c < cases.length; c++) {
                long start = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    cases[c].run();
                }
                long perOp = (System.nanoTime() - start) / BATCH;
                if (round >= 0) {
                    nanosPerOp[c][round] = perOp;
                }
            }
        }
        for (int c = 0; c < cases.length; c++) {
            long[] sorted = nanosPerOp[c].clone();
            Arrays.sort(sorted);
            System.out.printf("%-13s p10 %6d ns/op   p50 %6d ns/op   p90 %6d ns/op%n", names[c], sorted[ROUNDS / 10],
                    sorted[ROUNDS / 2], sorted[ROUNDS * 9 / 10]);
        }
    }
}
