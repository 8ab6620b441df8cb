package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryEngine;
import io.tarn.core.query.QueryResult;
import io.tarn.core.query.QueryValues;
import io.tarn.core.sql.SqlScript;
import io.tarn.core.topic.TopicSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

/**
 * Runs batch queries with Flink (the reference engine): lake tables at their current snapshot (or the one {@code FOR
 * SYSTEM_TIME AS OF} or an {@code OPTIONS} hint names), topics up to their current end offsets. Flink's parser decides
 * that it is one query; its job is cancelled at the time limit.
 */
public final class FlinkQueryEngine implements QueryEngine {
    /** This engine's name in requests and answers. */
    public static final String ENGINE = "flink";
    /** Cancels batch queries that run past their time limit. */
    private static final ScheduledExecutorService TIMEOUTS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "tarn-query-timeouts");
        thread.setDaemon(true);
        return thread;
    });
    /** Calcite's message for a table its validator cannot find (SqlValidatorException, objectNotFound[Within]). */
    private static final Pattern OBJECT_NOT_FOUND = Pattern.compile("Object '([^']*)' not found(?: within '([^']*)')?");

    private final JobSetup setup;
    private final Supplier<? extends Collection<TopicSpec>> topics;
    private final QueryLimits limits;

    /**
     * What one Flink batch query may take.
     *
     * @param timeout how long it may run before its job is cancelled
     * @param maxResultBytes roughly how many bytes of values its answer may hold; later rows are cut off
     */
    public record QueryLimits(Duration timeout, long maxResultBytes) {
        public QueryLimits {
            requireNonNull(timeout, "timeout is null");
        }

        /** The limits of Tarn's configuration ({@code query.*}). */
        public static QueryLimits from(TarnConfig config) {
            return new QueryLimits(config.get(ConfigKeys.QUERY_TIMEOUT), config.get(ConfigKeys.QUERY_MAX_RESULT_BYTES));
        }
    }

    FlinkQueryEngine(JobSetup setup, Supplier<? extends Collection<TopicSpec>> topics, QueryLimits limits) {
        this.setup = requireNonNull(setup, "setup is null");
        this.topics = requireNonNull(topics, "topics is null");
        this.limits = requireNonNull(limits, "limits is null");
    }

    @Override
    public String name() {
        return ENGINE;
    }

    /**
     * @throws TarnException {@link ErrorCode#STATEMENT_NOT_ALLOWED} for anything but one SELECT,
     *     {@link ErrorCode#INVALID_SQL} when Flink refuses it, {@link ErrorCode#TABLE_NOT_FOUND} or
     *     {@link ErrorCode#TOPIC_NOT_FOUND} for what it names but does not exist, {@link ErrorCode#QUERY_TIMEOUT} past
     *     the time limit
     */
    @Override
    public QueryResult query(String sql, int maxRows) {
        String statement = SqlScript.quoteQualifier(sql, StreamTables.DATABASE);
        TableEnvironment env = setup.environment(
                RuntimeExecutionMode.BATCH,
                // UTC as on the DuckDB path: a TIMESTAMP literal (FOR SYSTEM_TIME AS OF) means the same instant on both
                Map.of(
                        "pipeline.name",
                        "tarn:query",
                        "table.local-time-zone",
                        "UTC",
                        // a lake table read at a snapshot, tag or branch: /*+ OPTIONS('snapshot-id' = '…') */; the
                        // catalogs' factories refuse any other hinted option (OptionHints)
                        "table.dynamic-table-options.enabled",
                        "true"),
                topics.get(),
                SqlErrors.QUERY,
                true);
        List<Operation> operations;
        try {
            operations = SqlErrors.call(SqlErrors.QUERY, 0, () -> ((TableEnvironmentInternal) env)
                    .getParser()
                    .parse(statement));
        } catch (TarnException e) {
            throw notFound(e).orElse(e);
        }
        PipelineSqlRules.checkQuery(operations.get(0));
        TableResult result = SqlErrors.call(
                SqlErrors.QUERY, 0, () -> ((TableEnvironmentInternal) env).executeInternal(operations.get(0)));
        QueryResult.Collector answer = new QueryResult.Collector(
                result.getResolvedSchema().getColumnNames(), maxRows, limits.maxResultBytes(), ENGINE);
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> watchdog = TIMEOUTS.schedule(
                () -> {
                    timedOut.set(true);
                    result.getJobClient().ifPresent(job -> job.cancel());
                },
                limits.timeout().toMillis(),
                TimeUnit.MILLISECONDS);
        try (CloseableIterator<Row> iterator = result.collect()) {
            boolean more = true;
            while (more && iterator.hasNext()) {
                more = answer.add(fields(iterator.next()));
            }
        } catch (Exception e) {
            if (timedOut.get()) {
                throw new TarnException(
                        ErrorCode.QUERY_TIMEOUT,
                        "query ran longer than query.timeout (%s) and was cancelled"
                                .formatted(ConfigKeys.text(limits.timeout())),
                        e);
            }
            throw new TarnException(ErrorCode.QUERY_FAILED, "query failed: " + TarnException.rootMessage(e), e);
        } finally {
            watchdog.cancel(false);
        }
        return answer.result();
    }

    /** A row's fields as JSON-ready values. */
    private static List<Object> fields(Row row) {
        List<Object> values = new ArrayList<>(row.getArity());
        for (int i = 0; i < row.getArity(); i++) {
            values.add(QueryValues.json(row.getField(i), FlinkQueryEngine::rowAsList));
        }
        return values;
    }

    private static Object rowAsList(Object value) {
        if (value instanceof Row row) {
            List<Object> fields = new ArrayList<>(row.getArity());
            for (int i = 0; i < row.getArity(); i++) {
                fields.add(row.getField(i));
            }
            return fields;
        }
        return value;
    }

    /**
     * A query's missing table as the DuckDB path reports it (404, the same name and message), rather than as invalid
     * SQL.
     */
    private static Optional<TarnException> notFound(TarnException e) {
        Matcher matcher = OBJECT_NOT_FOUND.matcher(TarnException.rootMessage(e));
        if (!matcher.find()) {
            return Optional.empty();
        }
        String name = matcher.group(1);
        String within = matcher.group(2) == null ? "" : matcher.group(2);
        if (within.startsWith(PipelineSqlRules.LAKE_CATALOG + ".")) {
            return Optional.of(new TarnException(
                    ErrorCode.TABLE_NOT_FOUND,
                    "lake table '%s.%s' does not exist"
                            .formatted(within.substring(PipelineSqlRules.LAKE_CATALOG.length() + 1), name),
                    e));
        }
        if (within.equals(PipelineSqlRules.DEFAULT_CATALOG + "." + StreamTables.DATABASE)) {
            return Optional.of(
                    new TarnException(ErrorCode.TOPIC_NOT_FOUND, "topic '%s' does not exist".formatted(name), e));
        }
        return Optional.of(new TarnException(
                ErrorCode.TABLE_NOT_FOUND,
                "table '%s' does not exist (lake tables are named lake.<namespace>.<table>, topics stream.<topic>)"
                        .formatted(within.isEmpty() ? name : within + "." + name),
                e));
    }
}
