package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.sql.SqlScript;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.lake.LakeCatalog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableDescriptor;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.QueryOperation;

/**
 * The queries of live views: what a view's SQL is (one query, decided by Flink's parser), the columns it yields and
 * the key Flink's planner derives for its rows, and the pipeline that writes its rows to the view's topic.
 */
public final class ViewQueries {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long a view's job lets a row wait in a network buffer: Flink's default is 100 ms. */
    private static final String BUFFER_TIMEOUT = "1 ms";

    private final JobSetup setup;

    ViewQueries(JobSetup setup) {
        this.setup = requireNonNull(setup, "setup is null");
    }

    /**
     * A view's query as Flink plans it.
     *
     * @param columns the query's columns, in order, with Flink's types
     * @param key the columns that identify a row of its result (its upsert key), as Flink's planner derives them;
     *     empty when it derives none (a query that only appends rows, or one row for everything)
     * @param appendOnly whether the query only ever adds rows (no updates or deletes)
     * @param query the one statement of the view's SQL, as written (without a closing semicolon)
     */
    public record Shape(List<ColumnSpec> columns, List<String> key, boolean appendOnly, String query) {
        public Shape {
            requireNonNull(query, "query is null");
            columns = List.copyOf(columns);
            key = List.copyOf(key);
        }
    }

    /**
     * Checks that a view's SQL is exactly one query over the topics and lake tables, and plans it.
     *
     * @throws TarnException {@link ErrorCode#INVALID_SQL} when it is not one query, does not parse, or names an
     *     unknown table or column; {@link ErrorCode#INVALID_REQUEST} when a column's type is one Tarn does not carry
     */
    public Shape describe(String view, String sql, Collection<TopicSpec> topics) {
        List<String> statements = SqlScript.split(sql);
        if (statements.size() != 1) {
            throw new TarnException(
                    ErrorCode.INVALID_SQL,
                    "view '%s' must be one query (SELECT …), not %d statements".formatted(view, statements.size()));
        }
        String statement = SqlScript.quoteQualifier(statements.get(0), StreamTables.DATABASE);
        TableEnvironment env = setup.environment(RuntimeExecutionMode.STREAMING, Map.of(), topics, view, false);
        List<Operation> operations = SqlErrors.call(
                view, 1, () -> ((TableEnvironmentInternal) env).getParser().parse(statement));
        if (operations.size() != 1 || !(operations.get(0) instanceof QueryOperation)) {
            throw new TarnException(
                    ErrorCode.INVALID_SQL,
                    "view '%s' must be a query (SELECT …); it is %s"
                            .formatted(
                                    view,
                                    operations.isEmpty()
                                            ? "empty"
                                            : operations.get(0).getClass().getSimpleName()));
        }
        Table table = SqlErrors.call(view, 1, () -> env.sqlQuery(statement));
        ResolvedSchema schema = table.getResolvedSchema();
        List<ColumnSpec> columns = new ArrayList<>();
        for (Column column : schema.getColumns()) {
            columns.add(new ColumnSpec(
                    column.getName(),
                    ColumnTypes.parse(column.getDataType().getLogicalType().asSerializableString())));
        }
        return plannedKey(view, env, table, columns, statements.get(0));
    }

    /**
     * The upsert key of the query's rows at a sink, from the plan Flink compiles for an insert into a table without a
     * key (Flink derives it; its compiled plan names it as the sink's {@code inputUpsertKey}).
     */
    private static Shape plannedKey(
            String view, TableEnvironment env, Table query, List<ColumnSpec> columns, String written) {
        env.createTemporaryTable(
                "`default_catalog`.`default_database`.`view_shape`",
                TableDescriptor.forConnector("blackhole")
                        .schema(Schema.newBuilder()
                                .fromResolvedSchema(query.getResolvedSchema())
                                .build())
                        .build());
        JsonNode plan;
        try {
            String json =
                    SqlErrors.call(view, 1, () -> query.insertInto("`default_catalog`.`default_database`.`view_shape`")
                            .compilePlan()
                            .asJsonString());
            plan = JSON.readTree(json);
        } catch (IOException | RuntimeException e) {
            throw new TarnException(
                    ErrorCode.INVALID_SQL,
                    "view '%s': Flink cannot plan its query: %s".formatted(view, TarnException.rootMessage(e)),
                    e);
        }
        for (JsonNode node : plan.path("nodes")) {
            if (node.path("type").asText().startsWith("stream-exec-sink")) {
                List<String> key = new ArrayList<>();
                node.path("inputUpsertKey")
                        .forEach(index -> key.add(columns.get(index.asInt()).name()));
                boolean appendOnly = true;
                for (JsonNode kind : node.path("inputChangelogMode")) {
                    appendOnly &= kind.asText().equals("INSERT");
                }
                return new Shape(columns, key, appendOnly, written);
            }
        }
        throw new TarnException(
                ErrorCode.INTERNAL_ERROR, "view '%s': Flink's plan of its query has no sink".formatted(view));
    }

    /**
     * The pipeline SQL that keeps a view's topic up to date: its one query inserted into the topic (whose primary key
     * is the view's key); with a history table, the same query also upserted into that lake table by the view's key
     * (one Flink job: the planner computes the query once and feeds both sinks).
     *
     * @param query the view's one query, {@link Shape#query()}
     * @param history the lake table {@code namespace.table} that keeps the view's rows, created if it does not exist
     */
    public static String pipelineSql(
            String topic, String query, List<ColumnSpec> columns, List<String> key, Optional<String> history) {
        List<String> statements = new ArrayList<>();
        // a row goes on to the next operator at once, not when a network buffer is full or 100 ms have passed
        statements.add("SET 'execution.buffer-timeout.interval' = '%s'".formatted(BUFFER_TIMEOUT));
        String insert =
                "INSERT INTO `%s`.%s\n%s".formatted(StreamTables.DATABASE, StreamTables.quote(topic), query.strip());
        if (history.isEmpty()) {
            statements.add(insert);
            return String.join(";\n", statements) + "\n";
        }
        int dot = history.get().indexOf('.');
        String namespace = StreamTables.quote(history.get().substring(0, dot));
        String table = "`%s`.%s.%s"
                .formatted(
                        LakeCatalog.NAME,
                        namespace,
                        StreamTables.quote(history.get().substring(dot + 1)));
        List<String> definitions = new ArrayList<>();
        for (ColumnSpec column : columns) {
            definitions.add(
                    StreamTables.quote(column.name()) + " " + column.type().sql());
        }
        definitions.add("PRIMARY KEY (%s) NOT ENFORCED"
                .formatted(
                        String.join(", ", key.stream().map(StreamTables::quote).toList())));
        statements.add("CREATE DATABASE IF NOT EXISTS `%s`.%s".formatted(LakeCatalog.NAME, namespace));
        statements.add(
                """
                CREATE TABLE IF NOT EXISTS %s (
                  %s
                ) WITH ('format-version' = '2', 'write.upsert.enabled' = 'true')"""
                        .formatted(table, String.join(",\n  ", definitions)));
        statements.add(insert);
        statements.add("INSERT INTO %s\n%s".formatted(table, query.strip()));
        return String.join(";\n", statements) + ";\n";
    }
}
