package io.tarn.server.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.StartFrom;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.server.metadata.PipelineRecord.DesiredState;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The metadata store on a real SQLite file and on a real PostgreSQL (each test on a database of its own): changes of
 * several statements are all stored or none, a put replaces the row of its key, lists come in the order of their names'
 * bytes, and 64-bit times and counts stay whole.
 */
class MetadataStoreIT {
    private static final AtomicInteger DATABASES = new AtomicInteger();

    @TempDir
    static Path dir;

    private static EmbeddedPostgres postgres;

    @BeforeAll
    static void startPostgres() throws IOException {
        postgres = EmbeddedPostgres.start();
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        postgres.close();
    }

    /** Opens the same store again each time it is called. */
    static Stream<Arguments> stores() throws SQLException {
        Path file = dir.resolve("tarn-" + DATABASES.incrementAndGet() + ".db");
        String url = newPostgresDatabase();
        return Stream.of(
                Arguments.of("SQLite", (Supplier<MetadataStore>) () -> MetadataStore.open(file)),
                Arguments.of(
                        "PostgreSQL", (Supplier<MetadataStore>) () -> MetadataStore.open(url, "postgres", "postgres")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void aTransactionThatFailsLeavesNothingAndOneThatEndsIsKeptAcrossAReopen(
            String database, Supplier<MetadataStore> open) {
        try (MetadataStore store = open.get()) {
            assertThatThrownBy(() -> store.transaction(() -> {
                        store.putPipeline(pipeline("half"));
                        store.addPipelineJob("half", "job-1");
                        throw new IllegalStateException("a crash between the statements");
                    }))
                    .hasMessage("a crash between the statements");
            assertThat(store.pipeline("half")).isEmpty();
            assertThat(store.pipelineJobs("half")).isEmpty();

            store.transaction(() -> {
                store.putPipeline(pipeline("whole"));
                store.transaction(() -> store.addPipelineJob("whole", "job-2")); // part of the outer one
                store.putPipelineTables(
                        "whole", Optional.of(Set.of("stream.events", "lake.web.events", "stream.out")), Set.of("out"));
            });
        }
        try (MetadataStore store = open.get()) {
            assertThat(store.pipeline("whole").orElseThrow().sql()).isEqualTo("INSERT INTO x SELECT 1");
            assertThat(store.pipeline("whole").orElseThrow().onError()).isEqualTo(PipelineSpec.OnError.DEAD_LETTER);
            assertThat(store.pipeline("whole").orElseThrow().start().spelling()).isEqualTo("2026-12-04T10:00:00Z");
            assertThat(store.pipelineJobs("whole")).containsExactly("job-2");
            assertThat(store.pipelineTables("whole"))
                    .contains(Set.of("stream.events", "lake.web.events", "stream.out"));
            assertThat(store.pipelineWrittenTopics("whole")).containsExactly("out");
            store.deletePipeline("whole");
            assertThat(store.pipeline("whole")).isEmpty();
            assertThat(store.pipelineJobs("whole")).isEmpty();
            assertThat(store.pipelineTables("whole")).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void aPutReplacesTheRowOfItsKeyAndListsComeInTheOrderOfTheirNamesBytes(
            String database, Supplier<MetadataStore> open) {
        long time = 1_764_800_000_123L; // milliseconds since 1970: more than 32 bits
        try (MetadataStore store = open.get()) {
            for (String name : List.of("b", "B", "a_1", "a")) {
                store.putTopic(new TopicSpec(name, 1, List.of(ColumnSpec.of("id", "BIGINT")), Optional.empty()));
            }
            store.putTopic(new TopicSpec("b", 6, List.of(ColumnSpec.of("n", "STRING")), Optional.empty()));
            assertThat(store.topics().stream().map(TopicSpec::name)).containsExactly("B", "a", "a_1", "b");
            TopicSpec b = store.topic("b").orElseThrow();
            assertThat(b.partitions()).isEqualTo(6);
            assertThat(b.columns()).containsExactly(ColumnSpec.of("n", "STRING"));

            store.putSource(new SourceRecord(
                    "shop", "postgres", "host:5432/shop", "reader", "secret", List.of("public.orders"), true, time));
            store.putSource(new SourceRecord(
                    "shop", "postgres", "host:5432/shop", "writer", "other", List.of("public.items"), false, time));
            SourceRecord source = store.source("shop").orElseThrow();
            assertThat(List.of(source.user(), source.password(), source.tables(), source.mirror(), source.createdAt()))
                    .containsExactly("writer", "other", List.of("public.items"), false, time);

            store.putToken(new TokenRecord("ci", "hash-1", time));
            store.putToken(new TokenRecord("ci", "hash-2", time + 1));
            assertThat(store.tokens()).containsExactly(new TokenRecord("ci", "hash-2", time + 1));

            store.putView(new ViewRecord("pv", "SELECT 1", "pv.view", "pv-view", time, Optional.of("views.pv")));
            assertThat(store.view("pv").orElseThrow().history()).contains("views.pv");

            store.putPipeline(pipeline("p"));
            store.addPipelineJob("p", "job-1");
            store.addPipelineJob("p", "job-1"); // once
            store.putJobCounters(
                    "p",
                    new JobCounters(
                            "job-1",
                            1L << 40,
                            2,
                            3,
                            4,
                            5,
                            Optional.of(1L << 35),
                            time,
                            Map.of("r.passed", 3L),
                            Map.of("r.passed", 1L << 33, "r.failed", 1L)));
            assertThat(store.jobCounters("p"))
                    .containsExactly(new JobCounters(
                            "job-1",
                            1L << 40,
                            2,
                            3,
                            4,
                            5,
                            Optional.of(1L << 35),
                            time,
                            Map.of("r.passed", 3L),
                            Map.of("r.passed", 1L << 33, "r.failed", 1L)));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SQLite", "PostgreSQL"})
    void grantsAndRolesAreKeptAndTokensFromBeforeGrantsKeepEverything(String database) throws SQLException {
        boolean sqlite = database.equals("SQLite");
        Path file = dir.resolve("grants-" + DATABASES.incrementAndGet() + ".db");
        String url = sqlite ? "jdbc:sqlite:" + file : newPostgresDatabase();
        Supplier<MetadataStore> open =
                sqlite ? () -> MetadataStore.open(file) : () -> MetadataStore.open(url, "postgres", "postgres");
        try (MetadataStore store = open.get()) {
            store.putToken(new TokenRecord("admin", "h0", 1));
            store.putToken(new TokenRecord("loader", "h1", 1));
            store.putGrant(new GrantRecord("role", "readers", "read", "table:*"));
        }
        // a tarn.db of version 9: no grants; its tokens could use every route
        try (Connection raw = sqlite
                        ? DriverManager.getConnection(url)
                        : DriverManager.getConnection(url, "postgres", "postgres");
                Statement statement = raw.createStatement()) {
            statement.execute("DELETE FROM grants");
            statement.execute("UPDATE schema_version SET version = 9");
        }
        try (MetadataStore store = open.get()) {
            assertThat(store.grants()).containsExactly(new GrantRecord("principal", "loader", "manage", "*"));
            store.putGrant(new GrantRecord("role", "readers", "read", "table:*"));
            store.putGrant(new GrantRecord("role", "readers", "read", "table:*")); // kept once
            store.putGrant(new GrantRecord("principal", "loader", "write", "topic:orders"));
            store.putRoleMember("loader", "readers");
            store.putRoleMember("b-user", "readers");
            store.putRoleMember("b-user", "auditors");
            assertThat(store.grants())
                    .containsExactly(
                            new GrantRecord("principal", "loader", "manage", "*"),
                            new GrantRecord("principal", "loader", "write", "topic:orders"),
                            new GrantRecord("role", "readers", "read", "table:*"));
            assertThat(store.roleMembers())
                    .isEqualTo(Map.of("b-user", List.of("auditors", "readers"), "loader", List.of("readers")));
            assertThat(store.deleteGrant(new GrantRecord("principal", "loader", "manage", "*")))
                    .isTrue();
            assertThat(store.deleteGrant(new GrantRecord("principal", "loader", "manage", "*")))
                    .isFalse();
            store.deletePrincipal("loader");
        }
        try (MetadataStore store = open.get()) {
            assertThat(store.grants()).containsExactly(new GrantRecord("role", "readers", "read", "table:*"));
            assertThat(store.roleMembers()).isEqualTo(Map.of("b-user", List.of("auditors", "readers")));
            assertThat(store.deleteRoleMember("b-user", "readers")).isTrue();
            assertThat(store.deleteRoleMember("b-user", "readers")).isFalse();
        }
    }

    @Test
    void aStoreOnPostgreSqlConnectsAgainWhenItsConnectionIsLost() throws SQLException {
        String url = newPostgresDatabase();
        try (MetadataStore store = MetadataStore.open(url, "postgres", "postgres")) {
            store.putToken(new TokenRecord("ci", "hash", 1));
            // as when PostgreSQL restarts or a proxy drops an idle connection
            terminateSessions(url);
            assertThat(store.tokens()).containsExactly(new TokenRecord("ci", "hash", 1));
            terminateSessions(url);
            store.transaction(() -> store.putToken(new TokenRecord("ci", "hash-2", 2)));
            assertThat(store.tokens()).containsExactly(new TokenRecord("ci", "hash-2", 2));
        }
    }

    /** Ends every session of the database's from the server's side. */
    private static void terminateSessions(String url) throws SQLException {
        try (Connection admin = postgres.getPostgresDatabase().getConnection();
                Statement statement = admin.createStatement();
                ResultSet terminated = statement.executeQuery(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                                + " WHERE datname = '" + url.replaceAll(".*/([^/?]+).*", "$1") + "'")) {
            terminated.next();
            assertThat(terminated.getInt(1)).isEqualTo(1);
        }
    }

    @Test
    void anotherKindOfDatabaseIsRefusedWithoutEchoingItsUrl() {
        assertThatThrownBy(() -> MetadataStore.open("jdbc:mysql://db:3306/tarn?password=hunter2", "u", "p"))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessage("metadata.uri must be a jdbc:postgresql: URL (or empty: SQLite in the data directory);"
                        + " got 'jdbc:...'");
    }

    /** A new, empty database on the PostgreSQL server; its JDBC URL. */
    private static String newPostgresDatabase() throws SQLException {
        String name = "tarn_" + DATABASES.incrementAndGet();
        try (Connection admin = postgres.getPostgresDatabase().getConnection();
                Statement statement = admin.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        }
        return postgres.getJdbcUrl("postgres", name);
    }

    private static PipelineRecord pipeline(String name) {
        return new PipelineRecord(
                name,
                "INSERT INTO x SELECT 1",
                PipelineSpec.OnError.DEAD_LETTER,
                List.of(),
                StartFrom.of("2026-12-04T10:00:00Z"),
                DesiredState.RUNNING,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                1_000L);
    }
}
