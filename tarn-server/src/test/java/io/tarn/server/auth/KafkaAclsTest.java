package io.tarn.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.common.acl.AclBinding;
import org.junit.jupiter.api.Test;

/** How grants become Kafka ACLs: never broader than the grant. */
class KafkaAclsTest {
    private static List<String> acls(String privilege, String resource) {
        return KafkaAcls.bindings("ann", new Grant(Privilege.parse(privilege), resource)).stream()
                .map(KafkaAclsTest::text)
                .toList();
    }

    private static String text(AclBinding binding) {
        return binding.pattern().resourceType() + ":" + binding.pattern().patternType() + ":"
                + binding.pattern().name() + " " + binding.entry().principal() + " "
                + binding.entry().operation();
    }

    @Test
    void readWriteAndManageOfATopicAndTheTokensGroups() {
        assertThat(acls("read", "topic:orders"))
                .containsExactly(
                        "TOPIC:LITERAL:orders User:ann READ",
                        "TOPIC:LITERAL:orders User:ann DESCRIBE",
                        "GROUP:PREFIXED:ann. User:ann READ");
        assertThat(acls("write", "topic:orders"))
                .contains("TOPIC:LITERAL:orders User:ann WRITE")
                .hasSize(4);
        assertThat(acls("manage", "topic:orders"))
                .contains("TOPIC:LITERAL:orders User:ann WRITE", "TOPIC:LITERAL:orders User:ann DESCRIBE_CONFIGS")
                .hasSize(5);
    }

    @Test
    void patternsBecomePrefixesOrWildcardsOrNothing() {
        assertThat(acls("read", "topic:ord*")).contains("TOPIC:PREFIXED:ord User:ann READ");
        assertThat(acls("read", "topic:*")).contains("TOPIC:LITERAL:* User:ann READ");
        assertThat(acls("read", "*")).contains("TOPIC:LITERAL:* User:ann READ", "GROUP:LITERAL:* User:ann READ");
        assertThat(acls("read", "topic:a*b"))
                .as("a broader ACL would allow more")
                .isEmpty();
        assertThat(acls("manage", "table:shop.*")).isEmpty();
        assertThat(acls("read", "metrics")).isEmpty();
    }
}
