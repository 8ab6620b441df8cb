package io.tarn.server.table;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.lake.LakeCatalog;
import io.tarn.server.pipeline.PipelineService;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lake tables as users manage them: deleting one that pipelines use is refused unless forced, and a forced delete
 * fails those pipelines first.
 */
public final class TableService {
    private static final Logger LOG = LoggerFactory.getLogger(TableService.class);

    private final LakeCatalog lake;
    private final PipelineService pipelines;

    public TableService(LakeCatalog lake, PipelineService pipelines) {
        this.lake = requireNonNull(lake, "lake is null");
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
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
        lake.describe(table);
        List<String> users = pipelines.usersOf("lake." + table);
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
