package io.tarn.compute;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.ddl.CreateDatabaseOperation;
import org.apache.flink.table.operations.ddl.CreateTableOperation;
import org.apache.flink.table.types.logical.RowType;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.FlinkCatalog;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pipeline's lake DDL as it runs: a table that exists already must have the shape the statement declares (the same
 * columns, types, nullability, primary key and partitioning, as Iceberg stores them), or the statement is refused
 * naming both shapes — {@code CREATE TABLE IF NOT EXISTS} would otherwise keep a table of another shape and the
 * pipeline would write into it (a mirror appending changes into a table without its key). The databases and tables
 * the DDL created are remembered, so that a pipeline refused at a later statement (or by Flink at submission) leaves
 * nothing behind. Objects that existed before are never dropped; those created here hold no data yet.
 */
final class LakeDdl {
    private static final Logger LOG = LoggerFactory.getLogger(LakeDdl.class);

    private final Catalog lake;
    private final String pipeline;
    private final Deque<Created> created = new ArrayDeque<>();

    LakeDdl(TableEnvironment env, String pipeline) {
        this.lake = env.getCatalog(PipelineSqlRules.LAKE_CATALOG).orElseThrow();
        this.pipeline = pipeline;
    }

    /** Runs a DDL operation, remembering the lake database or table it creates if that did not exist. */
    void run(Operation operation, Runnable execute) {
        if (operation instanceof CreateTableOperation table
                && table.getTableIdentifier().getCatalogName().equals(PipelineSqlRules.LAKE_CATALOG)
                && !table.isTemporary()) {
            ObjectPath path = table.getTableIdentifier().toObjectPath();
            boolean existed = lake.tableExists(path);
            if (existed) {
                requireSameShape(table, path);
            }
            execute.run();
            if (!existed && lake.tableExists(path)) {
                created.push(new Created("table lake." + path.getFullName(), () -> lake.dropTable(path, true)));
            }
        } else if (operation instanceof CreateDatabaseOperation database
                && database.getCatalogName().equals(PipelineSqlRules.LAKE_CATALOG)) {
            String name = database.getDatabaseName();
            boolean existed = lake.databaseExists(name);
            execute.run();
            if (!existed && lake.databaseExists(name)) {
                created.push(new Created("database lake." + name, () -> lake.dropDatabase(name, true, false)));
            }
        } else {
            execute.run();
        }
    }

    /**
     * @throws TarnException {@link ErrorCode#TABLE_MISMATCH} naming the existing and the declared shape
     */
    private void requireSameShape(CreateTableOperation table, ObjectPath path) {
        Table existing = ((FlinkCatalog) lake)
                .catalog()
                .loadTable(TableIdentifier.of(path.getDatabaseName(), path.getObjectName()));
        Schema declared = FlinkSchemaUtil.convert(table.getCatalogTable().getResolvedSchema());
        List<String> declaredPartitioning = table.getCatalogTable().getPartitionKeys();
        List<String> existingPartitioning = existing.spec().fields().stream()
                .filter(f -> f.transform().isIdentity())
                .map(f -> existing.schema().findColumnName(f.sourceId()))
                .toList();
        if (!shape(declared).equals(shape(existing.schema()))
                || !declared.identifierFieldNames().equals(existing.schema().identifierFieldNames())
                || !declaredPartitioning.equals(existingPartitioning)
                || existing.spec().fields().size() != existingPartitioning.size()) {
            throw new TarnException(
                    ErrorCode.TABLE_MISMATCH,
                    ("pipeline '%s': lake table '%s' exists as %s; the statement declares %s. Tarn does not write"
                                    + " into a table of another shape: use another name, or delete the table first"
                                    + " (DELETE /v1/tables/%s)")
                            .formatted(
                                    pipeline,
                                    path.getFullName(),
                                    describe(
                                            existing.schema(),
                                            existingPartitioning,
                                            existing.spec().isUnpartitioned()
                                                    || existing.spec().fields().size() == existingPartitioning.size()),
                                    describe(declared, declaredPartitioning, true),
                                    path.getFullName()));
        }
    }

    /** Columns as names, Iceberg types and optionality, in order; field ids (assigned at creation) do not count. */
    private static List<String> shape(Schema schema) {
        return schema.columns().stream()
                .map(c -> c.name() + " " + c.type() + (c.isRequired() ? " required" : ""))
                .toList();
    }

    private static String describe(Schema schema, List<String> partitioning, boolean identityOnly) {
        RowType row = FlinkSchemaUtil.convert(schema);
        String columns = row.getFields().stream()
                .map(f -> f.getName() + " " + f.getType().asSummaryString())
                .collect(Collectors.joining(", "));
        Set<String> key = schema.identifierFieldNames();
        return "(" + columns + (key.isEmpty() ? "" : ", PRIMARY KEY (" + String.join(", ", new TreeSet<>(key)) + ")")
                + ")" + (key.isEmpty() ? " without primary key" : "")
                + (partitioning.isEmpty() ? "" : " PARTITIONED BY (" + String.join(", ", partitioning) + ")")
                + (identityOnly ? "" : " with partition transforms");
    }

    /** Drops what was created, newest first; what cannot be dropped is logged and left. */
    void dropAll() {
        while (!created.isEmpty()) {
            Created object = created.pop();
            try {
                object.drop().run();
                LOG.info("Pipeline {} was refused: its new {} was dropped again", pipeline, object.name());
            } catch (Exception e) {
                LOG.warn(
                        "Pipeline {} was refused but its new {} could not be dropped: {}",
                        pipeline,
                        object.name(),
                        TarnException.rootMessage(e));
            }
        }
    }

    private record Created(String name, Drop drop) {}

    @FunctionalInterface
    private interface Drop {
        void run() throws Exception;
    }
}
