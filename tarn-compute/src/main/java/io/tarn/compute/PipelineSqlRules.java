package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.core.audit.AuditNames;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.view.ViewNames;
import io.tarn.lake.LakeCatalog;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.table.catalog.CatalogFunction;
import org.apache.flink.table.catalog.FunctionLanguage;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.QueryOperation;
import org.apache.flink.table.operations.SinkModifyOperation;
import org.apache.flink.table.operations.command.SetOperation;
import org.apache.flink.table.operations.ddl.CreateCatalogFunctionOperation;
import org.apache.flink.table.operations.ddl.CreateDatabaseOperation;
import org.apache.flink.table.operations.ddl.CreateTableOperation;
import org.apache.flink.table.operations.ddl.CreateTempSystemFunctionOperation;
import org.apache.flink.table.operations.ddl.CreateViewOperation;

/**
 * What pipeline SQL may do. Every statement is first turned into operations by Flink's own parser; each operation is
 * then allowed or refused by its type and content, never by the statement's text. Allowed are:
 *
 * <ul>
 *   <li>{@code CREATE DATABASE} in {@code lake}, without properties;
 *   <li>{@code CREATE TABLE} in {@code lake} (an Iceberg table), with Iceberg table properties that neither move its
 *       files nor load classes;
 *   <li>tables elsewhere (also temporary ones) of an allowed connector: {@code datagen}, {@code blackhole},
 *       {@code print} and those the operator adds ({@code compute.sql.allowed-connectors}); never in {@code stream},
 *       whose tables are the topics Tarn declares;
 *   <li>temporary views;
 *   <li>functions of classes the operator lists ({@code compute.sql.allowed-functions}), never from a jar;
 *   <li>{@code SET} of the planner options in {@link #SET_OPTIONS};
 *   <li>{@code INSERT INTO} any table the pipeline sees (topics, lake tables and its own allowed tables), but a view's
 *       topic, which only the view's own pipeline writes.
 * </ul>
 *
 * Everything else — other connectors, CTAS/RTAS, catalogs, modules, jars, plans, statement sets, queries without a
 * sink, UPDATE/DELETE, DROP/ALTER — is refused with {@link ErrorCode#STATEMENT_NOT_ALLOWED} naming the statement and
 * the rule. {@code OPTIONS} hints are off ({@code table.dynamic-table-options.enabled=false}), so Flink itself refuses
 * them on sources; on sinks they are refused here.
 */
public final class PipelineSqlRules {
    /** The Iceberg catalog of lake tables in pipelines and queries. */
    static final String LAKE_CATALOG = LakeCatalog.NAME;

    /** Flink's in-memory catalog, holding {@code stream.*} and a pipeline's own tables. */
    static final String DEFAULT_CATALOG = "default_catalog";

    /** Connectors every pipeline may declare tables with: they read or write nothing outside the job. */
    public static final Set<String> CONNECTORS = Set.of("blackhole", "datagen", "print");

    /** Planner options a pipeline may SET: exact keys, and prefixes ending in a dot. */
    static final List<String> SET_OPTIONS = List.of(
            "table.exec.mini-batch.",
            "table.exec.state.ttl",
            "table.exec.source.idle-timeout",
            "table.exec.sink.",
            "table.exec.resource.default-parallelism",
            "table.exec.deduplicate.",
            "table.exec.window-agg.",
            "table.exec.async-lookup.",
            "table.exec.emit.",
            "table.exec.sort.",
            "table.exec.spill-compression.",
            "table.optimizer.",
            "table.local-time-zone",
            "execution.buffer-timeout.interval");

    /** Prefixes of Iceberg table properties a lake table may be created with. */
    private static final List<String> LAKE_PROPERTY_PREFIXES =
            List.of("format-version", "write.", "commit.", "history.", "read.");

    /** Iceberg properties that put a table's files elsewhere or name a class to load. */
    private static final Set<String> LAKE_PROPERTIES_REFUSED = Set.of(
            "write.data.path",
            "write.folder-storage.path",
            "write.object-storage.path",
            "write.metadata.path",
            "write.location-provider.impl");

    private final Set<String> connectors;
    private final Set<String> functions;

    /**
     * @param extraConnectors connectors allowed besides {@link #CONNECTORS}
     * @param functionClasses classes that may be declared as functions
     */
    public PipelineSqlRules(Collection<String> extraConnectors, Collection<String> functionClasses) {
        Set<String> all = new TreeSet<>(CONNECTORS);
        all.addAll(requireNonNull(extraConnectors, "extraConnectors is null"));
        this.connectors = Collections.unmodifiableSortedSet(new TreeSet<>(all));
        this.functions = Set.copyOf(requireNonNull(functionClasses, "functionClasses is null"));
    }

    /** The rules without anything the operator added. */
    public static PipelineSqlRules defaults() {
        return new PipelineSqlRules(List.of(), List.of());
    }

    /** What an allowed statement is. */
    enum Kind {
        /** DDL, run while the pipeline is prepared. */
        SETUP,
        /** A planner option. */
        SET,
        /** An INSERT, part of the pipeline's job. */
        INSERT
    }

    /**
     * Decides whether a statement of a pipeline may run.
     *
     * @param statement the statement's text, to name it
     * @param operation what Flink's parser made of it
     * @throws TarnException {@link ErrorCode#STATEMENT_NOT_ALLOWED} naming the statement and the rule it breaks
     */
    Kind check(String pipeline, int number, String statement, Operation operation) {
        Refusal refusal = new Refusal(pipeline, number, statement);
        if (operation.getClass() == CreateTableOperation.class) {
            checkTable(refusal, (CreateTableOperation) operation);
            return Kind.SETUP;
        }
        if (operation.getClass() == CreateDatabaseOperation.class) {
            CreateDatabaseOperation database = (CreateDatabaseOperation) operation;
            if (!database.getCatalogName().equals(LAKE_CATALOG)) {
                throw refusal.because("databases can be created in the lake catalog only (lake.<name>)");
            }
            if (!database.getCatalogDatabase().getProperties().isEmpty()) {
                throw refusal.because("lake databases take no properties (got %s)"
                        .formatted(new TreeSet<>(
                                database.getCatalogDatabase().getProperties().keySet())));
            }
            return Kind.SETUP;
        }
        if (operation.getClass() == CreateViewOperation.class) {
            if (!((CreateViewOperation) operation).isTemporary()) {
                throw refusal.because("views must be temporary (CREATE TEMPORARY VIEW)");
            }
            return Kind.SETUP;
        }
        if (operation.getClass() == CreateCatalogFunctionOperation.class) {
            checkFunction(refusal, ((CreateCatalogFunctionOperation) operation).getCatalogFunction());
            return Kind.SETUP;
        }
        if (operation.getClass() == CreateTempSystemFunctionOperation.class) {
            checkFunction(refusal, ((CreateTempSystemFunctionOperation) operation).getCatalogFunction());
            return Kind.SETUP;
        }
        if (operation.getClass() == SetOperation.class) {
            SetOperation set = (SetOperation) operation;
            if (set.getKey().isEmpty() || set.getValue().isEmpty()) {
                throw refusal.because("SET must name an option and a value: SET 'key' = 'value'");
            }
            checkOption(refusal, set.getKey().get());
            return Kind.SET;
        }
        if (operation.getClass() == SinkModifyOperation.class) {
            SinkModifyOperation insert = (SinkModifyOperation) operation;
            if (insert.isUpdate() || insert.isDelete()) {
                throw refusal.because("pipelines write with INSERT only, not UPDATE or DELETE");
            }
            if (!insert.getDynamicOptions().isEmpty()) {
                throw refusal.because("OPTIONS hints are not allowed: they would change a table's connector options");
            }
            checkViewTopic(refusal, pipeline, insert);
            checkAuditLog(refusal, pipeline, insert);
            return Kind.INSERT;
        }
        if (operation instanceof QueryOperation) {
            throw refusal.because("a pipeline writes its results with INSERT INTO; a query alone goes nowhere");
        }
        throw refusal.because(
                "pipelines may only create lake databases and tables, tables of the connectors %s, temporary views and"
                                .formatted(connectors)
                        + " allowed functions, SET planner options and INSERT INTO");
    }

    /** The audit log's topic is written by Tarn only, its lake table by Tarn's audit pipeline only. */
    private static void checkAuditLog(Refusal refusal, String pipeline, SinkModifyOperation insert) {
        ObjectIdentifier table = insert.getContextResolvedTable().getIdentifier();
        boolean topic = table.getCatalogName().equals(DEFAULT_CATALOG)
                && table.getDatabaseName().equals(StreamTables.DATABASE)
                && table.getObjectName().equals(AuditNames.TOPIC);
        boolean lake = table.getCatalogName().equals(LAKE_CATALOG)
                && (table.getDatabaseName() + "." + table.getObjectName()).equals(AuditNames.TABLE);
        if (topic || lake && !pipeline.equals(AuditNames.PIPELINE)) {
            throw refusal.because("%s is Tarn's audit log: only Tarn writes it"
                    .formatted(topic ? "topic '" + AuditNames.TOPIC + "'" : "lake table " + AuditNames.TABLE));
        }
    }

    /**
     * A view's topic ({@code stream.<view>.view}, the only stream tables of Flink's {@code upsert-kafka}) holds the rows
     * of its view: only the view's own pipeline ({@code <view>-view}) writes it.
     */
    private static void checkViewTopic(Refusal refusal, String pipeline, SinkModifyOperation insert) {
        ObjectIdentifier table = insert.getContextResolvedTable().getIdentifier();
        if (!table.getCatalogName().equals(DEFAULT_CATALOG)
                || !table.getDatabaseName().equals(StreamTables.DATABASE)) {
            return;
        }
        String connector =
                insert.getContextResolvedTable().getResolvedTable().getOptions().get("connector");
        String topic = table.getObjectName();
        if ("upsert-kafka".equals(connector)
                && !ViewNames.ofTopic(topic).map(ViewNames::pipeline).orElse("").equals(pipeline)) {
            throw refusal.because(
                    "topic '%s' holds the rows of a view; only the view's own pipeline writes it".formatted(topic));
        }
    }

    /**
     * Decides whether a query (the Flink engine of {@code POST /v1/query}) may run: one SELECT.
     *
     * @throws TarnException {@link ErrorCode#STATEMENT_NOT_ALLOWED} for anything else
     */
    static void checkQuery(Operation operation) {
        if (!(operation instanceof QueryOperation)) {
            throw new TarnException(
                    ErrorCode.STATEMENT_NOT_ALLOWED,
                    "a query must be one SELECT (or WITH ... SELECT) statement over lake tables and topics");
        }
    }

    private void checkTable(Refusal refusal, CreateTableOperation table) {
        ObjectIdentifier id = table.getTableIdentifier();
        Map<String, String> options = table.getCatalogTable().getOptions();
        if (id.getCatalogName().equals(LAKE_CATALOG) && !table.isTemporary()) {
            for (String key : new TreeSet<>(options.keySet())) {
                if (!lakeProperty(key)) {
                    throw refusal.because(
                            ("lake table property '%s' is not allowed (lake tables take Iceberg properties starting"
                                            + " with %s, except those that move their files or load classes)")
                                    .formatted(key, LAKE_PROPERTY_PREFIXES));
                }
            }
            return;
        }
        if (id.getCatalogName().equals(DEFAULT_CATALOG) && id.getDatabaseName().equals(StreamTables.DATABASE)) {
            throw refusal.because("stream.* are the topics Tarn declares; create topics with POST /v1/topics");
        }
        String connector = options.get("connector");
        if (connector == null) {
            throw refusal.because("a table outside the lake needs 'connector' = one of %s".formatted(connectors));
        }
        if (!connectors.contains(connector)) {
            throw refusal.because(
                    "connector '%s' is not allowed (allowed: %s; an operator adds others with compute.sql.allowed-connectors)"
                            .formatted(connector, connectors));
        }
    }

    private static boolean lakeProperty(String key) {
        return LAKE_PROPERTY_PREFIXES.stream().anyMatch(key::startsWith)
                && !LAKE_PROPERTIES_REFUSED.contains(key)
                && !key.endsWith(".impl");
    }

    private void checkFunction(Refusal refusal, CatalogFunction function) {
        if (function == null) {
            throw refusal.because("functions must name a class");
        }
        if (function.getFunctionResources() != null
                && !function.getFunctionResources().isEmpty()) {
            throw refusal.because("functions cannot be loaded from jars or files (USING JAR)");
        }
        if (function.getFunctionLanguage() != FunctionLanguage.JAVA
                && function.getFunctionLanguage() != FunctionLanguage.SCALA) {
            throw refusal.because("functions must be JVM classes, not %s".formatted(function.getFunctionLanguage()));
        }
        if (!functions.contains(function.getClassName())) {
            throw refusal.because(
                    "function class '%s' is not allowed (an operator lists the classes pipelines may use in"
                                    .formatted(function.getClassName())
                            + " compute.sql.allowed-functions)");
        }
    }

    private static void checkOption(Refusal refusal, String key) {
        boolean allowed = SET_OPTIONS.stream()
                .anyMatch(option -> option.endsWith(".") ? key.startsWith(option) : key.equals(option));
        if (!allowed) {
            throw refusal.because(
                    "SET '%s' is not allowed; pipelines may set %s (Tarn runs the job: checkpoints, restarts, state and"
                                    .formatted(
                                            key,
                                            SET_OPTIONS.stream()
                                                    .map(o -> o.endsWith(".") ? o + "*" : o)
                                                    .toList())
                            + " connectors are its settings)");
        }
    }

    /** Names a refused statement in its message. */
    private record Refusal(String pipeline, int number, String statement) {
        TarnException because(String rule) {
            return new TarnException(
                    ErrorCode.STATEMENT_NOT_ALLOWED,
                    "pipeline '%s': statement %d (%s) is not allowed: %s"
                            .formatted(pipeline, number, name(statement), rule));
        }

        /** The statement's first words, for a message. */
        static String name(String statement) {
            String oneLine = String.join(" ", statement.strip().split("\\s+"));
            return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 57) + "...";
        }
    }
}
