package io.tarn.server.lake;

import static java.util.Objects.requireNonNull;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.DataDir;
import io.tarn.core.pipeline.PipelineState;
import io.tarn.lake.Compaction;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.TableCleanup;
import io.tarn.server.pipeline.PipelineService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.Table;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every lake table fast while pipelines write it: per table and run, compaction (small files and applied
 * deletes), snapshot expiry (never past what a pipeline needs to resume exactly once), a manifest rewrite when commits
 * left many, and — hourly, when no pipeline that writes the table could still resume with files it has not committed —
 * orphan removal. Runs take turns on one {@link MaintenanceThread} of low CPU priority, one table at a time; what each
 * table's last run did is kept for {@code GET /v1/tables/{name}}.
 */
public final class LakeMaintenance implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LakeMaintenance.class);

    /** Table property that turns maintenance off for one table. */
    public static final String ENABLED_PROPERTY = "tarn.maintenance.enabled";

    private static final Duration ORPHAN_PERIOD = Duration.ofHours(1);

    private final LakeCatalog lake;
    private final PipelineService pipelines;
    private final SnapshotExpiry expiry;
    private final Settings settings;
    private final Clock clock;
    private final MaintenanceThread thread;
    private final Map<String, Run> lastRuns = new ConcurrentHashMap<>();
    private final Map<String, Instant> lastOrphanRuns = new ConcurrentHashMap<>();

    /**
     * @param enabled whether scheduled runs maintain tables ({@link #runAll})
     * @param orphanAge unreferenced files younger than this are kept
     * @param metadataVersions {@code metadata.json} versions a table keeps
     * @param nice the nice value of the thread maintenance runs on (0 leaves it at normal priority)
     */
    public record Settings(
            boolean enabled, Compaction.Settings compaction, Duration orphanAge, int metadataVersions, int nice) {
        public Settings {
            requireNonNull(compaction, "compaction is null");
            requireNonNull(orphanAge, "orphanAge is null");
        }

        /** The settings of Tarn's configuration ({@code lake.*}). */
        public static Settings from(TarnConfig config, DataDir dataDir) {
            return new Settings(
                    config.get(ConfigKeys.LAKE_MAINTENANCE_ENABLED),
                    new Compaction.Settings(
                            config.get(ConfigKeys.LAKE_TARGET_FILE_SIZE),
                            config.get(ConfigKeys.LAKE_COMPACTION_MIN_FILES),
                            config.get(ConfigKeys.LAKE_COMPACTION_MAX_BYTES),
                            config.get(ConfigKeys.LAKE_MAINTENANCE_THREADS),
                            config.get(ConfigKeys.LAKE_MAINTENANCE_MEMORY_LIMIT),
                            dataDir.maintenanceSpill()),
                    config.get(ConfigKeys.LAKE_ORPHAN_AGE),
                    config.get(ConfigKeys.LAKE_METADATA_VERSIONS),
                    config.get(ConfigKeys.LAKE_MAINTENANCE_NICE));
        }
    }

    /** Why a run was made. */
    public enum Trigger {
        SCHEDULED,
        REQUESTED
    }

    /**
     * What one run did to one table.
     *
     * @param compaction what compaction rewrote, or why it did not
     * @param manifestsRewritten manifests replaced by fewer
     * @param orphans what orphan removal deleted, when it ran
     * @param orphansWaiting why orphan removal did not run this time, when it was due
     * @param error what failed, if a step did (the steps after it did not run)
     */
    public record Run(
            String table,
            Trigger trigger,
            Instant startedAt,
            Duration took,
            Optional<Compaction.Result> compaction,
            int snapshotsExpired,
            int manifestsRewritten,
            Optional<TableCleanup.Orphans> orphans,
            Optional<String> orphansWaiting,
            Optional<String> error) {
        public Run {
            requireNonNull(table, "table is null");
            requireNonNull(trigger, "trigger is null");
            requireNonNull(startedAt, "startedAt is null");
            requireNonNull(took, "took is null");
            requireNonNull(compaction, "compaction is null");
            requireNonNull(orphans, "orphans is null");
            requireNonNull(orphansWaiting, "orphansWaiting is null");
            requireNonNull(error, "error is null");
        }
    }

    public LakeMaintenance(LakeCatalog lake, PipelineService pipelines, SnapshotExpiry expiry, Settings settings) {
        this(lake, pipelines, expiry, settings, Clock.systemUTC());
    }

    LakeMaintenance(
            LakeCatalog lake, PipelineService pipelines, SnapshotExpiry expiry, Settings settings, Clock clock) {
        this.lake = requireNonNull(lake, "lake is null");
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
        this.expiry = requireNonNull(expiry, "expiry is null");
        this.settings = requireNonNull(settings, "settings is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.thread = new MaintenanceThread(settings.nice());
    }

    /** Whether scheduled runs maintain tables. */
    public boolean enabled() {
        return settings.enabled();
    }

    /** A scheduled round: every table that has not opted out, one after the other. */
    public void runAll() {
        if (!settings.enabled()) {
            return;
        }
        for (String table : lake.listTables()) {
            try {
                if (optedOut(lake.load(table))) {
                    continue;
                }
                thread.call(() -> run(table, Trigger.SCHEDULED, false));
            } catch (TarnException e) {
                if (e.code() != ErrorCode.TABLE_NOT_FOUND) { // dropped meanwhile
                    throw e;
                }
            }
        }
    }

    /**
     * Maintains one table now, whatever the schedule and the table's opt-out say, orphan removal included when no
     * pipeline writing the table could resume.
     *
     * @param table {@code namespace.table}
     * @throws TarnException {@link ErrorCode#INVALID_NAME}, {@link ErrorCode#TABLE_NOT_FOUND}
     */
    public Run runNow(String table) {
        String name = LakeCatalog.identifier(table).toString();
        lake.load(name);
        return thread.call(() -> run(name, Trigger.REQUESTED, true));
    }

    /** The last run of a table since Tarn started, if any. */
    public Optional<Run> lastRun(String table) {
        return Optional.ofNullable(lastRuns.get(table));
    }

    private static boolean optedOut(Table table) {
        return "false".equalsIgnoreCase(table.properties().get(ENABLED_PROPERTY));
    }

    /** One run, on the maintenance thread. */
    private Run run(String table, Trigger trigger, boolean orphansNow) {
        Instant start = clock.instant();
        Optional<Compaction.Result> compaction = Optional.empty();
        int expired = 0;
        int manifests = 0;
        Optional<TableCleanup.Orphans> orphans = Optional.empty();
        Optional<String> orphansWaiting = Optional.empty();
        Optional<String> error = Optional.empty();
        try {
            Table loaded = lake.load(table);
            TableCleanup.keepMetadataVersions(loaded, settings.metadataVersions());
            compaction = Optional.of(new Compaction(settings.compaction()).compact(table, loaded));
            expired = expiry.expire(table);
            manifests = TableCleanup.rewriteManifests(table, loaded);
            Instant lastOrphans = lastOrphanRuns.getOrDefault(table, Instant.EPOCH);
            if (orphansNow || !lastOrphans.plus(ORPHAN_PERIOD).isAfter(start)) {
                orphansWaiting = writerThatMayResume(table);
                if (orphansWaiting.isEmpty()) {
                    orphans = Optional.of(TableCleanup.removeOrphans(table, loaded, start.minus(settings.orphanAge())));
                    lastOrphanRuns.put(table, start);
                }
            }
        } catch (RuntimeException e) {
            error = Optional.of(withoutPaths(TarnException.rootMessage(e)));
            LOG.warn("Maintenance of lake table {} failed: {}", table, error.get());
        }
        Run run = new Run(
                table,
                trigger,
                start,
                Duration.between(start, clock.instant()),
                compaction,
                expired,
                manifests,
                orphans,
                orphansWaiting,
                error);
        lastRuns.put(table, run);
        return run;
    }

    /** Stops the maintenance thread, interrupting a run. */
    @Override
    public void close() {
        thread.close();
    }

    /** A message without the local paths of the warehouse and the spill directory, which callers must not see. */
    private String withoutPaths(String message) {
        String warehouse = lake.properties().get(CatalogProperties.WAREHOUSE_LOCATION);
        String text = message == null ? "unknown error" : message;
        if (warehouse != null && !warehouse.isEmpty()) {
            text = text.replace(warehouse.replaceFirst("^file:", ""), "<warehouse>");
        }
        return text.replace(settings.compaction().spillDirectory().toString(), "<spill>");
    }

    /**
     * Why orphan removal must wait: a pipeline that uses the table is neither running nor finished, so it may resume
     * from a checkpoint whose files are written but not committed yet.
     */
    private Optional<String> writerThatMayResume(String table) {
        List<String> users = pipelines.usersOf(LakeCatalog.NAME + "." + table);
        for (String pipeline : users) {
            PipelineState state;
            try {
                state = pipelines.get(pipeline).state();
            } catch (TarnException e) {
                continue; // deleted meanwhile
            }
            if (state != PipelineState.RUNNING && state != PipelineState.FINISHED) {
                return Optional.of(("pipeline '%s' is %s and may resume with files it has not committed yet; orphans"
                                + " are removed once it runs or is deleted")
                        .formatted(pipeline, state));
            }
        }
        return Optional.empty();
    }
}
