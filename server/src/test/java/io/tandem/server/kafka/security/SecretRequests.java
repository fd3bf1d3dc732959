package io.tandem.server.kafka.security;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.utils.internals.ImplicitLinkedHashMultiCollection;

import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Requests of any API built by Kafka's own message classes, with their defaults and every field that names a resource
 * (found by the field's name, recursively into the first element of each list) set to given secret resources: what
 * the negative suite sends to a principal without ACLs, for every API without a hand-written request.
 */
final class SecretRequests {
    private final String topic;
    private final String group;
    private final String transactionalId;
    private final Uuid topicId;

    SecretRequests(String topic, String group, String transactionalId, Uuid topicId) {
        this.topic = topic;
        this.group = group;
        this.transactionalId = transactionalId;
        this.topicId = topicId;
    }

    /** Kafka's default request of the API with every resource name set to a secret resource. */
    ApiMessage request(ApiKeys key, short version) {
        ApiMessage message = ApiMessageType.fromApiKey(key.id).newRequest();
        fill(message, message, version, "", 0);
        return message;
    }

    /**
     * Sets the fields that name a resource, by their names, recursively into the first element of each list:
     * topics (by name and id), groups, transactional ids; acks to all, so a produce is answered.
     */
    private void fill(ApiMessage root, Object message, short version, String context, int depth) {
        for (Method setter : message.getClass().getMethods()) {
            if (!setter.getName().startsWith("set") || setter.getParameterCount() != 1) continue;
            String field = setter.getName().substring(3).toLowerCase(Locale.ROOT);
            Class<?> type = setter.getParameterTypes()[0];
            Method getter;
            Object before;
            try {
                getter = message.getClass().getMethod(Character.toLowerCase(setter.getName().charAt(3))
                        + setter.getName().substring(4));
                before = getter.invoke(message);
            } catch (ReflectiveOperationException notAField) {
                continue;
            }
            try {
                if (type == String.class) {
                    String value = name(field, context);
                    if (value != null) setter.invoke(message, value);
                } else if (type == Uuid.class && field.equals("topicid")) {
                    setter.invoke(message, topicId);
                } else if (type == short.class && field.equals("acks")) {
                    setter.invoke(message, (short) -1);
                } else if (type == byte.class && (field.equals("resourcetype") || field.equals("resourcetypefilter"))) {
                    setter.invoke(message, (byte) 2); // TOPIC, in ConfigResource's and the ACL types' numbering
                } else if (type == byte.class && (field.equals("operation") || field.equals("permissiontype"))) {
                    // READ and ALLOW: the schema default is UNKNOWN, which Kafka's request parsing refuses by
                    // closing the connection (AclRequestValidationTest), before any authorization.
                    setter.invoke(message, (byte) 3);
                } else if (depth < 3 && List.class.isAssignableFrom(type)) {
                    Type element = ((ParameterizedType) setter.getGenericParameterTypes()[0]).getActualTypeArguments()[0];
                    if (element == String.class) {
                        String value = listed(field);
                        if (value != null) setter.invoke(message, new ArrayList<>(List.of(value)));
                    } else if (element == Integer.class && field.startsWith("partition")) {
                        setter.invoke(message, new ArrayList<>(List.of(0)));
                    } else if (element instanceof Class<?> c && Message.class.isAssignableFrom(c)) {
                        Object item = c.getConstructor().newInstance();
                        setter.invoke(message, new ArrayList<>(List.of(item)));
                        fill(root, item, version, field, depth + 1);
                    }
                } else if (depth < 3 && ImplicitLinkedHashMultiCollection.class.isAssignableFrom(type)) {
                    Type element = ((ParameterizedType) type.getGenericSuperclass()).getActualTypeArguments()[0];
                    @SuppressWarnings("unchecked")
                    ImplicitLinkedHashMultiCollection<ImplicitLinkedHashMultiCollection.Element> items =
                            (ImplicitLinkedHashMultiCollection<ImplicitLinkedHashMultiCollection.Element>)
                                    type.getConstructor().newInstance();
                    Object item = ((Class<?>) element).getConstructor().newInstance();
                    fill(root, item, version, field, depth + 1);
                    items.add((ImplicitLinkedHashMultiCollection.Element) item);
                    setter.invoke(message, items);
                }
                // A field this version does not have keeps its default (Kafka refuses to write it otherwise).
                if (!writable(root, version)) setter.invoke(message, before);
            } catch (ReflectiveOperationException | ClassCastException e) {
                throw new AssertionError("cannot fill " + message.getClass().getSimpleName() + "." + field, e);
            }
        }
    }

    private static boolean writable(ApiMessage message, short version) {
        try {
            RequestUtils.serialize(new RequestHeaderData(), (short) 1, message, version);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The secret resource a list of names holds (group ids, topic names, FindCoordinator's keys). */
    private String listed(String field) {
        if (field.contains("transactionalid")) return transactionalId;
        if (field.contains("group") || field.equals("coordinatorkeys")) return group;
        if (field.contains("topic")) return topic;
        return null;
    }

    /** The secret resource a field names, from its name and the list it is in; null for any other field. */
    private String name(String field, String context) {
        if (field.equals("transactionalid")) return transactionalId;
        if (field.equals("groupid") || field.equals("group") || (field.equals("name") && context.contains("group"))) {
            return group;
        }
        if (field.equals("topic") || field.equals("topicname") || field.equals("resourcename")
                || (field.equals("name") && context.contains("topic"))) {
            return topic;
        }
        return null;
    }
}
