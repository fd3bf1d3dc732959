/**
 * The error response of any Kafka request that fails as a whole, as Kafka's {@code AbstractRequest.getErrorResponse}
 * builds it for each API ({@link io.tandem.server.kafka.errors.ErrorResponses}): what the SASL exchange answers to a
 * request out of turn (ILLEGAL_SASL_STATE) and what fault injection answers with its error. Owns: those responses
 * alone. Must not touch: the network, the handlers (each handler answers its own errors as Apache's KafkaApis does).
 */
package io.tandem.server.kafka.errors;
