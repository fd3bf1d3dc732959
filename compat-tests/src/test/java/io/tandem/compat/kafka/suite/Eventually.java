package io.tandem.compat.kafka.suite;

/**
 * Retries an assertion until it holds or {@link KafkaSuite#TIMEOUT} passes. Only for what Apache Kafka documents as
 * eventually consistent: metadata seen by a broker a moment after the controller committed a change.
 */
final class Eventually {
    interface Check { void run() throws Exception; }
    interface Value<T> { T get() throws Exception; }

    private Eventually() {}

    static void run(Check check) throws Exception {
        get(() -> { check.run(); return null; });
    }

    static <T> T get(Value<T> value) throws Exception {
        long deadline = System.nanoTime() + KafkaSuite.TIMEOUT.toNanos();
        while (true) {
            try {
                return value.get();
            } catch (Exception | AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
