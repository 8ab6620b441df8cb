package io.tarn.compute;

import io.tarn.core.error.TarnException;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.ddl.CreateDatabaseOperation;
import org.apache.flink.table.operations.ddl.CreateTableOperation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lake databases and tables a pipeline's DDL created while it was prepared, so that a pipeline refused at a later
 * statement (or by Flink at submission) leaves nothing behind. Objects that existed before are never dropped; those
 * created here hold no data yet.
 */
final class CreatedLakeObjects {
    private static final Logger LOG = LoggerFactory.getLogger(CreatedLakeObjects.class);

    private final Catalog lake;
    private final Deque<Created> created = new ArrayDeque<>();

    CreatedLakeObjects(TableEnvironment env) {
        this.lake = env.getCatalog(PipelineSqlRules.LAKE_CATALOG).orElseThrow();
    }

    /** Runs a DDL operation, remembering the lake database or table it creates if that did not exist. */
    void run(Operation operation, Runnable execute) {
        if (operation instanceof CreateTableOperation table
                && table.getTableIdentifier().getCatalogName().equals(PipelineSqlRules.LAKE_CATALOG)
                && !table.isTemporary()) {
            ObjectPath path = table.getTableIdentifier().toObjectPath();
            boolean existed = lake.tableExists(path);
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

    /** Drops what was created, newest first; what cannot be dropped is logged and left. */
    void dropAll(String pipeline) {
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
