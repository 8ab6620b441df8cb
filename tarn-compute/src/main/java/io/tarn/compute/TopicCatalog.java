package io.tarn.compute;

import org.apache.flink.table.catalog.CatalogBaseTable;
import org.apache.flink.table.catalog.GenericInMemoryCatalog;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.catalog.exceptions.CatalogException;
import org.apache.flink.table.catalog.exceptions.TableNotExistException;

/**
 * The catalog topics are declared in ({@code stream.<topic>}), in memory as Flink's built-in one, but answering time
 * travel as a catalog should: Flink's planner looks a {@code FOR SYSTEM_TIME AS OF} table up in the current catalog
 * first, and the built-in catalog then throws instead of saying the table is not there, so {@code lake.ns.t FOR
 * SYSTEM_TIME AS OF ...} never reached the lake catalog.
 */
final class TopicCatalog extends GenericInMemoryCatalog {
    TopicCatalog(String name) {
        super(name);
    }

    @Override
    public CatalogBaseTable getTable(ObjectPath tablePath, long timestamp)
            throws TableNotExistException, CatalogException {
        if (!tableExists(tablePath)) {
            throw new TableNotExistException(getName(), tablePath);
        }
        throw new CatalogException(
                "%s is not a lake table: only lake tables keep a history to read FOR SYSTEM_TIME AS OF"
                        .formatted(tablePath.getFullName()));
    }
}
