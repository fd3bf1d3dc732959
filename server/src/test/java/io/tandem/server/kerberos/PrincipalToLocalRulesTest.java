package io.tandem.server.kerberos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.apache.kafka.common.security.kerberos.KerberosShortNamer;
import org.junit.jupiter.api.Test;

/**
 * The principal-to-local rules against Kafka's own KerberosShortNamer (kafka-clients, test scope): the same short
 * name, or a failure, for every principal under every rule set, and the same words for a rule that does not parse.
 */
class PrincipalToLocalRulesTest {
    private static final String REALM = "EXAMPLE.COM";
    private static final List<List<String>> RULE_SETS = List.of(
            List.of("DEFAULT"),
            List.of("RULE:[1:$1@$0](.*@EXAMPLE.COM)s/@.*//L", "DEFAULT"),
            List.of("RULE:[2:$1](kafka)s/.*/broker/", "RULE:[1:$1]"),
            List.of("RULE:[2:$1;$2](^.*;localhost$)s/;.*$//", "RULE:[2:$1/$2]"),
            List.of("RULE:[1:$1](A.*)s/a/x/g/L", "RULE:[1:$0-$1]s/\\./_/g"),
            List.of("RULE:[1:$1]/U", "RULE:[2:$2]L"),
            List.of("RULE:[1:$3]"),
            List.of("RULE:[1:$]"),
            List.of("RULE:[2:$1@$0](.*@OTHER.ORG)s/@.*//"));
    private static final List<String> PRINCIPALS = List.of("alice@EXAMPLE.COM", "Alice@EXAMPLE.COM",
            "AnnA.b@EXAMPLE.COM", "kafka/localhost@EXAMPLE.COM", "kafka/broker1.example.com@EXAMPLE.COM",
            "svc/host@OTHER.ORG", "bob@OTHER.ORG", "simple", "a/b");

    @Test
    void shouldNameEveryPrincipalAsKafkasShortNamerDoes() throws Exception {
        int compared = 0;
        for (List<String> rules : RULE_SETS) {
            PrincipalToLocalRules ours = PrincipalToLocalRules.parse(REALM, rules);
            KerberosShortNamer kafkas = KerberosShortNamer.fromUnparsedRules(REALM, rules);
            for (String principal : PRINCIPALS) {
                String expected;
                try {
                    expected = kafkas.shortName(org.apache.kafka.common.security.kerberos.KerberosName.parse(principal));
                } catch (IOException e) {
                    expected = "failed";
                }
                String actual;
                try {
                    actual = ours.shortName(KerberosName.parse(principal));
                } catch (PrincipalToLocalRules.NoMatchingRule e) {
                    actual = "failed";
                }
                assertEquals(expected, actual, principal + " under " + rules);
                compared++;
            }
        }
        assertEquals(RULE_SETS.size() * PRINCIPALS.size(), compared);
    }

    @Test
    void shouldRefuseARuleKafkaRefusesWithItsWords() {
        for (String rule : List.of("RULE:[1:$1", "NOT_A_RULE", "DEFAULT/X", "DEFAULT/L", "RULE:[1:$1]s/a/b/gx",
                "RULE:[1:$1]/X")) {
            IllegalArgumentException kafkas = assertThrows(IllegalArgumentException.class,
                    () -> KerberosShortNamer.fromUnparsedRules(REALM, List.of(rule)));
            IllegalArgumentException ours = assertThrows(IllegalArgumentException.class,
                    () -> PrincipalToLocalRules.parse(REALM, List.of(rule)));
            assertEquals(kafkas.getMessage(), ours.getMessage());
        }
    }

    @Test
    void shouldSplitPrincipalNamesAsKafka() {
        for (String principal : PRINCIPALS) {
            var kafkas = org.apache.kafka.common.security.kerberos.KerberosName.parse(principal);
            KerberosName ours = KerberosName.parse(principal);
            assertEquals(kafkas.serviceName(), ours.serviceName());
            assertEquals(kafkas.hostName(), ours.hostName());
            assertEquals(kafkas.realm(), ours.realm());
            assertEquals(kafkas.toString(), ours.toString());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerberosName.parse("a/b/c@R"));
        assertTrue(e.getMessage().startsWith("Malformed Kerberos name"), e.getMessage());
    }
}
