package io.tarn.server.table;

import static java.util.Objects.requireNonNull;

import io.tarn.core.audit.AuditNames;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.table.TableInfo;
import io.tarn.lake.LakeCatalog;
import io.tarn.server.lake.LakeMaintenance;
import io.tarn.server.pipeline.PipelineService;
import io.tarn.server.query.QueryService;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lake tables as users see and manage them: described with the rows they hold now, their newest snapshots and their
 * last maintenance, their history paged, maintained on request; deleting one that pipelines use is refused unless
 * forced, and a forced delete fails those pipelines first.
 */
public final class TableService {
    private static final Logger LOG = LoggerFactory.getLogger(TableService.class);

    private final LakeCatalog lake;
    private final PipelineService pipelines;
    private final QueryService queries;
    private final LakeMaintenance maintenance;

    public TableService(
            LakeCatalog lake, PipelineService pipelines, QueryService queries, LakeMaintenance maintenance) {
        this.lake = requireNonNull(lake, "lake is null");
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
        this.queries = requireNonNull(queries, "queries is null");
        this.maintenance = requireNonNull(maintenance, "maintenance is null");
    }

    /**
     * Maintains a table now: compaction, snapshot expiry, manifests, orphans.
     *
     * @throws TarnException {@link ErrorCode#INVALID_NAME}, {@link ErrorCode#TABLE_NOT_FOUND}
     */
    public LakeMaintenance.Run maintain(String name) {
        return maintenance.runNow(name);
    }

    /**
     * A table from its metadata, with the rows it holds now.
     *
     * @param info schema, files, rows written and the whole snapshot history
     * @param rows what {@code count(*)} answers: rows written when there are no delete files, else counted with them
     *     applied; empty when this table's deletes cannot be applied here (deletion vectors)
     * @param lastMaintenance what the table's last maintenance run did, if one ran since Tarn started
     */
    public record Description(TableInfo info, OptionalLong rows, Optional<LakeMaintenance.Run> lastMaintenance) {
        public Description {
            requireNonNull(info, "info is null");
            requireNonNull(rows, "rows is null");
            requireNonNull(lastMaintenance, "lastMaintenance is null");
        }
    }

    /**
     * @param name {@code namespace.table}
     * @throws TarnException {@link ErrorCode#INVALID_NAME}, {@link ErrorCode#TABLE_NOT_FOUND}, and
     *     {@link ErrorCode#QUERY_BUSY} when counting an upsert table's rows finds no turn among queries
     */
    public Description describe(String name) {
        TableInfo info = lake.describe(LakeCatalog.identifier(name).toString());
        Optional<LakeMaintenance.Run> lastRun = maintenance.lastRun(info.name());
        if (info.deleteFiles() == 0) {
            return new Description(info, OptionalLong.of(info.rowsWritten()), lastRun);
        }
        try {
            return new Description(info, OptionalLong.of(queries.liveRows(info.name())), lastRun);
        } catch (TarnException e) {
            if (e.code() != ErrorCode.UNSUPPORTED_QUERY) {
                throw e;
            }
            return new Description(info, OptionalLong.empty(), lastRun);
        }
    }

    /**
     * One page of a table's snapshots, newest first.
     *
     * @param snapshots at most the limit asked for
     * @param next the {@code before} of the following page; empty on the last one
     */
    public record SnapshotPage(List<TableInfo.Snapshot> snapshots, Optional<Long> next) {
        public SnapshotPage {
            snapshots = List.copyOf(requireNonNull(snapshots, "snapshots is null"));
            requireNonNull(next, "next is null");
        }
    }

    /**
     * @param limit snapshots on the page, 1 to 1000
     * @param before the page starts after this snapshot (a {@link SnapshotPage#next()}); empty: at the newest
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for a limit out of range or a {@code before} that is not
     *     one of the table's snapshots
     */
    public SnapshotPage snapshots(String name, int limit, Optional<Long> before) {
        if (limit < 1 || limit > 1000) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "limit must be between 1 and 1000, not %d".formatted(limit));
        }
        List<TableInfo.Snapshot> newestFirst = new ArrayList<>(
                lake.describe(LakeCatalog.identifier(name).toString()).snapshots());
        Collections.reverse(newestFirst);
        int from = 0;
        if (before.isPresent()) {
            from = newestFirst.stream().map(TableInfo.Snapshot::id).toList().indexOf(before.get()) + 1;
            if (from == 0) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "before=%d is not a snapshot of lake table '%s' (it may have expired)"
                                .formatted(before.get(), name));
            }
        }
        int to = Math.min(newestFirst.size(), from + limit);
        List<TableInfo.Snapshot> page = newestFirst.subList(from, to);
        return new SnapshotPage(
                page,
                to < newestFirst.size() ? Optional.of(page.get(page.size() - 1).id()) : Optional.empty());
    }

    /**
     * Drops a lake table and deletes its files.
     *
     * @param name {@code namespace.table}
     * @param force delete it even when pipelines use it (they fail)
     * @throws TarnException {@link ErrorCode#INVALID_NAME}, {@link ErrorCode#TABLE_NOT_FOUND},
     *     {@link ErrorCode#TABLE_IN_USE} naming the pipelines
     */
    public void delete(String name, boolean force) {
        String table = LakeCatalog.identifier(name).toString();
        if (table.equals(AuditNames.TABLE)) {
            throw AuditNames.refused("lake table %s is kept".formatted(table));
        }
        lake.describe(table);
        List<String> users = pipelines.usersOf(LakeCatalog.NAME + "." + table);
        if (!users.isEmpty() && !force) {
            throw new TarnException(
                    ErrorCode.TABLE_IN_USE,
                    ("lake table '%s' is used by pipeline %s; delete or change the pipelines first, or delete the table"
                                    + " with force=true (they then fail)")
                            .formatted(
                                    table,
                                    String.join(
                                            ", ",
                                            users.stream()
                                                    .map(n -> "'" + n + "'")
                                                    .toList())));
        }
        pipelines.fail(users, "its lake table '%s' was deleted".formatted(table));
        lake.dropAndPurge(table);
        LOG.info("Lake table {} deleted", table);
    }
}
