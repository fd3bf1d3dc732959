import org.apache.kafka.common.protocol.Errors;
/** Prints errors.kws's lines from kafka-clients' Errors: code, name, retriable, and the default message it sends. */
public class DumpErrors { public static void main(String[] a){ for (Errors e: Errors.values()) { boolean r = e.exception()!=null && e.exception() instanceof org.apache.kafka.common.errors.RetriableException; System.out.println("error " + e.code() + " " + e.name() + (r? " retriable":"") + (e.exception() == null ? "" : " message " + e.message())); } } }
