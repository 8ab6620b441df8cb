package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.server.auth.Tokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The audit log: every call of the API, allowed, denied or unauthenticated, is an event on the topic tarn.audit that
 * Tarn's pipeline tarn-audit lands in lake.tarn.audit, with no token, body or query string in it; nobody changes the
 * log through the API.
 */
class AuditIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension(
            config -> config.with(ConfigKeys.AUDIT_LAKE, "true").with(ConfigKeys.AUDIT_LAKE_INTERVAL, "1s"));

    @Test
    void theAuditTableHoldsExactlyTheCallsMadeAndNoSecret() {
        Http admin = tarn.http();
        Fixtures.createIdTopic(admin, "orders", 1);
        Http.Reply created = admin.post(
                "/v1/tokens",
                Map.of("name", "auditee", "grants", List.of(Map.of("privilege", "write", "resource", "topic:orders"))));
        assertThat(created.status()).isEqualTo(201);
        String secretToken = created.body().path("token").asText();
        Http auditee = admin.withToken(Optional.of(secretToken));

        assertThat(auditee.get("/v1/topics/orders?probe=hunter3").status()).isEqualTo(200);
        assertThat(auditee.post("/v1/topics/orders/records", List.of(Map.of("id", 1)))
                        .status())
                .isEqualTo(200);
        assertThat(auditee.get("/v1/topics/tarn.audit").status()).isEqualTo(403);
        assertThat(auditee.post("/v1/query", Map.of("sql", "SELECT count(*) FROM lake.tarn.audit"))
                        .status())
                .isEqualTo(403);
        assertThat(auditee.post(
                                "/v1/sources",
                                Map.of(
                                        "name",
                                        "src",
                                        "connection",
                                        "jdbc:postgresql://localhost:1/db",
                                        "user",
                                        "u",
                                        "password",
                                        "hunter2",
                                        "tables",
                                        List.of("t")))
                        .status())
                .isEqualTo(403);
        Http stranger = admin.withToken(Optional.of("tarn_" + "x".repeat(43)));
        assertThat(stranger.get("/v1/topics/unauthenticated-probe").status()).isEqualTo(401);

        String calls = "SELECT method, route, path, privileges, decision, status, error FROM lake.tarn.audit"
                + " WHERE principal = 'auditee' OR path = '/v1/topics/unauthenticated-probe'";
        List<String> expected = List.of(
                "[\"GET\",\"GET /v1/topics/{name}\",\"/v1/topics/orders\",\"read on topic:orders\",\"allowed\",200,null]",
                "[\"POST\",\"POST /v1/topics/{name}/records\",\"/v1/topics/orders/records\",\"write on topic:orders\","
                        + "\"allowed\",200,null]",
                "[\"GET\",\"GET /v1/topics/{name}\",\"/v1/topics/tarn.audit\",\"read on topic:tarn.audit (denied)\","
                        + "\"denied\",403,\"NOT_PERMITTED\"]",
                "[\"POST\",\"POST /v1/query\",\"/v1/query\",\"read on table:tarn.audit (denied)\",\"denied\",403,"
                        + "\"NOT_PERMITTED\"]",
                "[\"POST\",\"POST /v1/sources\",\"/v1/sources\",\"manage on source:src (denied)\",\"denied\",403,"
                        + "\"NOT_PERMITTED\"]",
                "[\"GET\",\"GET /v1/topics/{name}\",\"/v1/topics/unauthenticated-probe\",\"\",\"unauthenticated\",401,\"UNAUTHENTICATED\"]");
        await(
                "the calls in lake.tarn.audit",
                Duration.ofMinutes(2),
                () -> rows(admin, calls).size() >= 6);
        assertThat(rows(admin, calls)).containsExactlyInAnyOrderElementsOf(expected);

        // who and when: the principal, the server's node and a time within the test
        JsonNode who = Fixtures.rows(
                admin,
                "SELECT count(DISTINCT node), min(called_at) > TIMESTAMPTZ '2026-01-01 00:00:00+00', max(millis) >= 0"
                        + " FROM lake.tarn.audit WHERE principal = 'auditee'");
        assertThat(who.toString()).isEqualTo("[[1,true,true]]");
        // never a token, a body or a query string
        String everything =
                Fixtures.rows(admin, "SELECT * FROM lake.tarn.audit").toString();
        assertThat(everything)
                .doesNotContain(secretToken)
                .doesNotContain(Tokens.readAdminToken(tarn.dataDir()))
                .doesNotContain("hunter2")
                .doesNotContain("hunter3");
    }

    @Test
    void nobodyChangesTheAuditLogThroughTheApi() {
        Http admin = tarn.http();
        Fixtures.awaitPipelineRunning(admin, "tarn-audit", "at the start");
        long before = admin.get("/v1/topics/tarn.audit").body().path("records").asLong();
        List<Http.Reply> refused = new ArrayList<>(List.of(
                admin.post("/v1/topics/tarn.audit/records", List.of(Map.of("principal", "forged"))),
                admin.put(
                        "/v1/topics/tarn.audit/schema",
                        Map.of("columns", List.of(Map.of("name", "at", "type", "STRING")))),
                admin.delete("/v1/topics/tarn.audit"),
                admin.delete("/v1/pipelines/tarn-audit"),
                admin.put("/v1/pipelines/tarn-audit", Map.of("sql", "INSERT INTO lake.tarn.audit SELECT 1")),
                admin.delete("/v1/tables/tarn.audit"),
                admin.post("/v1/tables/tarn.audit/swap", Map.of("with", "tarn.other")),
                admin.delete("/iceberg/v1/namespaces/tarn/tables/audit")));
        for (Http.Reply reply : refused) {
            assertThat(reply.status()).as(reply.text()).isEqualTo(403);
        }
        assertThat(refused.get(0).errorMessage())
                .isEqualTo("topic 'tarn.audit' is written by Tarn only: it is Tarn's audit log");
        Http.Reply forging = admin.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "forger",
                        "sql",
                        "INSERT INTO lake.tarn.audit (principal) SELECT 'forged' FROM stream.`tarn.audit`;"));
        assertThat(forging.status()).as(forging.text()).isEqualTo(400);
        assertThat(forging.errorMessage()).contains("lake table tarn.audit is Tarn's audit log: only Tarn writes it");
        assertThat(admin.get("/v1/pipelines").text()).doesNotContain("forger");
        Http.Reply named = admin.post(
                "/v1/pipelines", Map.of("name", "tarn-audit", "sql", "INSERT INTO lake.tarn.audit SELECT 1"));
        assertThat(named.status()).as(named.text()).isEqualTo(403);
        assertThat(Fixtures.rows(admin, "SELECT count(*) FROM lake.tarn.audit WHERE principal = 'forged'")
                        .toString())
                .isEqualTo("[[0]]");
        // the refused calls are in the log like any other (the topic only grew by audit events)
        assertThat(admin.get("/v1/topics/tarn.audit").body().path("records").asLong())
                .isGreaterThan(before);
    }

    private static List<String> rows(Http http, String sql) {
        List<String> rows = new ArrayList<>();
        Fixtures.rows(http, sql).forEach(row -> rows.add(row.toString()));
        return rows;
    }
}
