package io.tarn.server;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.ColumnTypes;
import io.tarn.compute.ComputeSettings;
import io.tarn.compute.EmbeddedFlink;
import io.tarn.compute.FlinkAccess;
import io.tarn.compute.FlinkCompute;
import io.tarn.compute.PipelineSqlRules;
import io.tarn.compute.RestTls;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.LakeQuery;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import io.tarn.server.auth.Tokens;
import io.tarn.server.http.ApiServer;
import io.tarn.server.http.TarnApi;
import io.tarn.server.lake.SnapshotExpiry;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.pipeline.PipelineService;
import io.tarn.server.query.QueryService;
import io.tarn.server.source.SourceService;
import io.tarn.server.storage.StorageGuard;
import io.tarn.server.table.TableService;
import io.tarn.server.topic.TopicDeletion;
import io.tarn.server.topic.TopicService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Tarn process: the log (embedded Kafka node or an external cluster), the Flink MiniCluster, the lake catalog, the
 * metadata store and the HTTP API, started in dependency order and closed in reverse. The HTTP API starts last, so a
 * process that answers is a process whose parts are all up. Pipelines that should run are resumed in the background
 * right after the start.
 */
public final class TarnServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TarnServer.class);

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final TarnConfig config;
    private final Path dataDir;
    private String bootstrapServers;
    private KafkaLog log;
    private EmbeddedFlink flink;
    private LakeCatalog lake;
    private StorageGuard storage;
    private PipelineService pipelines;
    private TopicService topics;
    private QueryService queries;
    private SourceService sources;
    private ApiServer api;

    private TarnServer(TarnConfig config) {
        this.config = requireNonNull(config, "config is null");
        this.dataDir = config.dataDir();
    }

    /**
     * Starts every part; on failure, closes what was started and throws.
     *
     * @throws TarnException naming the part that could not start
     */
    public static TarnServer start(TarnConfig config) {
        TarnServer server = new TarnServer(config);
        try {
            server.startParts();
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private void startParts() {
        ApiServer.Settings http = ApiServer.Settings.from(config);
        requireFree(http.host(), http.port(), "http.port", "--http-port");
        if (config.get(ConfigKeys.LOG_BOOTSTRAP_SERVERS).isBlank()) {
            requireFree(config.get(ConfigKeys.LOG_HOST), config.get(ConfigKeys.LOG_PORT), "log.port", "--kafka-port");
        }
        try {
            Directories.createOwnerOnly(dataDir);
        } catch (UncheckedIOException e) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG, "data-dir cannot be created: " + TarnException.rootMessage(e), e);
        }
        MetadataStore metadata = MetadataStore.open(dataDir.resolve("tarn.db"));
        resources.push(metadata);
        Tokens tokens = Tokens.open(metadata, dataDir);
        int maxRecordBytes = config.get(ConfigKeys.LOG_MAX_RECORD_BYTES);
        bootstrapServers = config.get(ConfigKeys.LOG_BOOTSTRAP_SERVERS);
        boolean fsync = config.get(ConfigKeys.LOG_DURABILITY).equals("fsync");
        if (fsync && !bootstrapServers.isBlank()) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "log.durability=fsync applies to the embedded broker only; with log.bootstrap-servers the external"
                            + " cluster's replication (min.insync.replicas) decides durability");
        }
        if (bootstrapServers.isBlank()) {
            warnIfReachable(config.get(ConfigKeys.LOG_HOST));
            EmbeddedKafka kafka = EmbeddedKafka.start(
                    dataDir.resolve("kafka"),
                    config.get(ConfigKeys.LOG_HOST),
                    config.get(ConfigKeys.LOG_PORT),
                    maxRecordBytes,
                    fsync);
            resources.push(kafka);
            bootstrapServers = kafka.bootstrapServers();
        }
        log = new KafkaLog(bootstrapServers, maxRecordBytes);
        resources.push(log);
        String warehouse = config.get(ConfigKeys.LAKE_WAREHOUSE);
        if (warehouse.isBlank()) {
            warehouse = dataDir.resolve("warehouse").toString();
        }
        String fileIo = config.get(ConfigKeys.LAKE_FILE_IO);
        Map<String, Path> storageDirectories = new LinkedHashMap<>();
        storageDirectories.put("data directory", dataDir);
        if (!warehouse.contains("://") || warehouse.startsWith("file:")) {
            Path local = warehouse.startsWith("file:") ? Path.of(java.net.URI.create(warehouse)) : Path.of(warehouse);
            try {
                if (!Files.isDirectory(local)) {
                    Directories.createOwnerOnly(local);
                }
            } catch (UncheckedIOException e) {
                throw new TarnException(
                        ErrorCode.INVALID_CONFIG,
                        "lake.warehouse cannot be created: " + TarnException.rootMessage(e),
                        e);
            }
            storageDirectories.put("warehouse", local);
        }
        storage = new StorageGuard(storageDirectories, config.get(ConfigKeys.STORAGE_MIN_FREE_BYTES));
        lake = LakeCatalog.open(
                dataDir.resolve("catalog.db"), warehouse, fileIo.isBlank() ? Optional.empty() : Optional.of(fileIo));
        resources.push(lake);
        Path flinkDir = dataDir.resolve("flink");
        Path flinkTmp = flinkDir.resolve("tmp");
        deleteQuietly(flinkTmp);
        flink = EmbeddedFlink.start(
                flinkTmp, RestTls.open(flinkDir.resolve("tls")), config.get(ConfigKeys.COMPUTE_TASK_SLOTS));
        resources.push(flink);
        FlinkCompute compute = new FlinkCompute(
                flink.access(),
                new ComputeSettings(
                        flinkDir,
                        config.get(ConfigKeys.COMPUTE_PARALLELISM),
                        config.get(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL),
                        config.get(ConfigKeys.COMPUTE_RETAINED_CHECKPOINTS),
                        config.get(ConfigKeys.COMPUTE_RESTART_MAX_FAILURES),
                        config.get(ConfigKeys.COMPUTE_RESTART_FAILURE_INTERVAL),
                        config.get(ConfigKeys.COMPUTE_RESTART_DELAY),
                        config.get(ConfigKeys.COMPUTE_OBJECT_REUSE),
                        config.get(ConfigKeys.COMPUTE_LAKE_WRITER_THREAD),
                        config.get(ConfigKeys.COMPUTE_LANDING_JOBS),
                        new PipelineSqlRules(
                                config.get(ConfigKeys.COMPUTE_SQL_ALLOWED_CONNECTORS),
                                config.get(ConfigKeys.COMPUTE_SQL_ALLOWED_FUNCTIONS))),
                lake.properties(),
                bootstrapServers);
        topics = new TopicService(log, metadata, maxRecordBytes, storage, ColumnTypes::parse);
        pipelines = new PipelineService(compute, metadata, topics, lake, storage);
        resources.push(pipelines::suspendAll);
        storage.onChange(pipelines::storageChanged);
        sources = new SourceService(
                metadata,
                topics,
                pipelines,
                dataDir.resolve("sources"),
                bootstrapServers,
                config.get(ConfigKeys.LOG_DEFAULT_PARTITIONS),
                config.get(ConfigKeys.CDC_HEARTBEAT_INTERVAL),
                config.get(ConfigKeys.CDC_WAL_WARNING_BYTES));
        resources.push(sources);
        Path querySpill = dataDir.resolve("query-spill");
        deleteQuietly(querySpill);
        Duration queryTimeout = config.get(ConfigKeys.QUERY_TIMEOUT);
        long maxResultBytes = config.get(ConfigKeys.QUERY_MAX_RESULT_BYTES);
        queries = new QueryService(
                new LakeQuery(
                        lake,
                        warehouse,
                        querySpill,
                        new LakeQuery.Limits(config.get(ConfigKeys.QUERY_MEMORY_LIMIT), queryTimeout, maxResultBytes)),
                compute,
                topics,
                config.get(ConfigKeys.QUERY_MAX_ROWS),
                new FlinkCompute.QueryLimits(queryTimeout, maxResultBytes),
                config.get(ConfigKeys.QUERY_MAX_CONCURRENT));
        TarnApi routes = new TarnApi(
                this::parts,
                topics,
                pipelines,
                lake,
                queries,
                sources,
                tokens,
                new TopicDeletion(topics, pipelines, sources),
                new TableService(lake, pipelines, queries),
                config.get(ConfigKeys.LOG_DEFAULT_PARTITIONS),
                config.get(ConfigKeys.HTTP_MAX_RECORDS_PER_REQUEST));
        api = ApiServer.start(http, routes.routes(), tokens, dataDir.toString(), () -> true);
        resources.push(api);
        ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "tarn-pipelines");
            thread.setDaemon(true);
            return thread;
        });
        resources.push(background::shutdownNow);
        background.execute(pipelines::resumeAll);
        background.execute(sources::resumeAll);
        ScheduledExecutorService storageWatch = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "tarn-storage");
            thread.setDaemon(true);
            return thread;
        });
        resources.push(storageWatch::shutdownNow);
        storageWatch.scheduleWithFixedDelay(this::checkStorage, 1, 1, TimeUnit.SECONDS);
        background.scheduleWithFixedDelay(this::pruneCheckpoints, 30, 30, TimeUnit.SECONDS);
        background.scheduleWithFixedDelay(this::failWhereTopicsAreMissing, 5, 5, TimeUnit.SECONDS);
        background.scheduleWithFixedDelay(this::observePipelines, 5, 5, TimeUnit.SECONDS);
        SnapshotExpiry expiry = new SnapshotExpiry(lake, metadata, config.get(ConfigKeys.LAKE_SNAPSHOT_RETENTION));
        long maintenance = config.get(ConfigKeys.LAKE_MAINTENANCE_INTERVAL).toMillis();
        background.scheduleWithFixedDelay(
                () -> expireSnapshots(expiry), maintenance, maintenance, TimeUnit.MILLISECONDS);
        LOG.info("Tarn started: HTTP {} Kafka {} data {}", httpAddress(), bootstrapServers, dataDir);
    }

    /**
     * Refuses a fixed port that another process holds before anything starts, instead of failing after Kafka and Flink
     * started.
     *
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} naming the port, its key and the flag that changes it
     */
    private static void requireFree(String host, int port, String key, String flag) {
        if (port == 0) {
            return;
        }
        try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
            socket.bind(new java.net.InetSocketAddress(host, port));
        } catch (java.net.BindException e) {
            if (String.valueOf(e.getMessage()).contains("in use")) {
                throw new TarnException(
                        ErrorCode.INVALID_CONFIG,
                        "port %d on %s (%s) is in use by another process; choose another with %s N, or 0 for a free one"
                                .formatted(port, host, key, flag),
                        e);
            }
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "port %d on %s (%s) cannot be bound: %s".formatted(port, host, key, e.getMessage()),
                    e);
        } catch (IOException e) {
            // an address that does not resolve: the part that binds it reports that in its own words
        }
    }

    /** The embedded broker's Kafka listener has no authentication yet: say so when it is not on loopback. */
    private static void warnIfReachable(String host) {
        try {
            if (!java.net.InetAddress.getByName(host).isLoopbackAddress()) {
                LOG.warn(
                        "The embedded Kafka listener on {} accepts any client without authentication; keep log.host on a"
                                + " loopback address unless the network is trusted (docs/security.md)",
                        host);
            }
        } catch (java.net.UnknownHostException e) {
            throw new TarnException(ErrorCode.INVALID_CONFIG, "log.host '%s' cannot be resolved".formatted(host), e);
        }
    }

    private void checkStorage() {
        try {
            storage.check();
        } catch (RuntimeException e) {
            LOG.warn("Checking free storage failed: {}", e.getMessage());
        }
    }

    private static void expireSnapshots(SnapshotExpiry expiry) {
        try {
            expiry.run();
        } catch (RuntimeException e) {
            LOG.warn("Expiring lake snapshots failed: {}", e.getMessage());
        }
    }

    private void failWhereTopicsAreMissing() {
        try {
            pipelines.failWhereTopicsAreMissing(log.listTopics());
        } catch (RuntimeException e) {
            LOG.warn("Checking pipelines' topics failed: {}", e.getMessage());
        }
    }

    private void observePipelines() {
        try {
            pipelines.observeRunning();
        } catch (RuntimeException e) {
            LOG.warn("Reading pipelines' counters failed: {}", e.getMessage());
        }
    }

    private void pruneCheckpoints() {
        try {
            pipelines.pruneCheckpoints();
        } catch (RuntimeException e) {
            LOG.warn("Pruning old checkpoints failed: {}", e.getMessage());
        }
    }

    /** Whether each part answers now. */
    Map<String, Boolean> parts() {
        Map<String, Boolean> parts = new LinkedHashMap<>();
        parts.put("log", check(() -> log.listTopics()));
        parts.put("lake", check(() -> lake.listTables()));
        parts.put("compute", check(() -> pipelines.list()));
        parts.put("storage", storage.problem().isEmpty());
        return parts;
    }

    private static boolean check(Runnable probe) {
        try {
            probe.run();
            return true;
        } catch (RuntimeException e) {
            LOG.warn("Readiness probe failed: {}", e.getMessage());
            return false;
        }
    }

    public String httpAddress() {
        return api.address();
    }

    public int httpPort() {
        return api.port();
    }

    /** How to reach the REST endpoint of the Flink cluster pipelines run on. */
    public FlinkAccess flinkAccess() {
        return flink.access();
    }

    public LakeCatalog lake() {
        return lake;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public TopicService topics() {
        return topics;
    }

    public PipelineService pipelines() {
        return pipelines;
    }

    public SourceService sources() {
        return sources;
    }

    public QueryService queries() {
        return queries;
    }

    public Path dataDir() {
        return dataDir;
    }

    private static void deleteQuietly(Path root) {
        try {
            Directories.deleteRecursively(root);
        } catch (UncheckedIOException e) {
            LOG.warn("Stale temporary files in {} could not be removed: {}", root, e.getMessage());
        }
    }

    /** Stops the API, then Flink (jobs end; their checkpoints stay), then the log, lake and metadata. */
    @Override
    public synchronized void close() {
        boolean started = !resources.isEmpty();
        while (!resources.isEmpty()) {
            AutoCloseable resource = resources.pop();
            try {
                resource.close();
            } catch (Exception e) {
                LOG.warn("Closing {} failed: {}", resource.getClass().getSimpleName(), e.getMessage());
            }
        }
        if (started) {
            LOG.info("Tarn stopped");
        }
    }
}
