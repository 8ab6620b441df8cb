package io.tarn.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.TarnException;
import org.junit.jupiter.api.Test;

class GrantTest {
    private static boolean gives(String privilege, String pattern, String needed, String resource) {
        return new Grant(Privilege.parse(privilege), pattern).gives(new Permission(Privilege.parse(needed), resource));
    }

    @Test
    void manageImpliesWriteWhichImpliesRead() {
        assertThat(gives("manage", "topic:orders", "read", "topic:orders")).isTrue();
        assertThat(gives("manage", "topic:orders", "write", "topic:orders")).isTrue();
        assertThat(gives("write", "topic:orders", "read", "topic:orders")).isTrue();
        assertThat(gives("write", "topic:orders", "manage", "topic:orders")).isFalse();
        assertThat(gives("read", "topic:orders", "write", "topic:orders")).isFalse();
    }

    @Test
    void wildcardsMatchAnyCharactersWithinTheirKind() {
        assertThat(gives("read", "table:shop.*", "read", "table:shop.orders")).isTrue();
        assertThat(gives("read", "table:shop.*", "read", "table:shopping.orders"))
                .isFalse();
        assertThat(gives("read", "table:*.orders", "read", "table:shop.orders")).isTrue();
        assertThat(gives("read", "table:s*p.*s", "read", "table:shop.orders")).isTrue();
        assertThat(gives("read", "table:s*p.*s", "read", "table:shop.order")).isFalse();
        assertThat(gives("read", "table:*", "read", "topic:orders")).isFalse();
        assertThat(gives("read", "topic:orders", "read", "topic:orders2")).isFalse();
        assertThat(gives("read", "topic:orders*", "read", "topic:orders2")).isTrue();
        // a namespace's tables as one resource: only a pattern that covers all of them gives it
        assertThat(gives("manage", "table:shop.*", "manage", "table:shop.*")).isTrue();
        assertThat(gives("manage", "table:*", "manage", "table:shop.*")).isTrue();
        assertThat(gives("manage", "table:shop.orders", "manage", "table:shop.*"))
                .isFalse();
    }

    @Test
    void everythingIsEveryResourceAndMetricsOnlyItself() {
        assertThat(gives("manage", "*", "manage", "*")).isTrue();
        assertThat(gives("read", "*", "read", "metrics")).isTrue();
        assertThat(gives("read", "*", "read", "view:v")).isTrue();
        assertThat(gives("read", "metrics", "read", "metrics")).isTrue();
        assertThat(gives("read", "metrics", "read", "topic:metrics")).isFalse();
        assertThat(gives("manage", "table:*", "manage", "*")).isFalse();
    }

    @Test
    void badPrivilegesAndResourcesAreRefusedNamingThem() {
        assertThatThrownBy(() -> Privilege.parse("admin"))
                .isInstanceOf(TarnException.class)
                .hasMessage("privilege 'admin' must be read, write or manage");
        assertThatThrownBy(() -> new Grant(Privilege.READ, "bucket:x"))
                .hasMessage("resource 'bucket:x' must be <kind>:<name> with a kind of [topic, table, pipeline, source,"
                        + " view] (the name may hold * wildcards), metrics, or * for everything");
        assertThatThrownBy(() -> new Grant(Privilege.READ, "table:"))
                .hasMessage("resource 'table:': a name is 1-255 letters, digits, '_', '-', '.' and '*' wildcards");
        assertThatThrownBy(() -> new Grant(Privilege.READ, "table:shop.[a-z]"))
                .hasMessage("resource 'table:shop.[a-z]': a name is 1-255 letters, digits, '_', '-', '.' and '*'"
                        + " wildcards");
        assertThatThrownBy(() -> new Grant(Privilege.READ, "topics"))
                .hasMessageStartingWith("resource 'topics' must be");
    }
}
