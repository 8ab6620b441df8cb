package io.tarn.server;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.ColumnTypes;
import io.tarn.compute.ComputeSettings;
import io.tarn.compute.EmbeddedFlink;
import io.tarn.compute.FlinkAccess;
import io.tarn.compute.FlinkCompute;
import io.tarn.compute.FlinkQueryEngine;
import io.tarn.compute.RestTls;
import io.tarn.compute.SessionCluster;
import io.tarn.compute.StateStorage;
import io.tarn.core.audit.AuditNames;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.DataDir;
import io.tarn.core.io.Directories;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.LakeQuery;
import io.tarn.lake.WarehouseFileIO;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import io.tarn.server.audit.KafkaAudit;
import io.tarn.server.auth.Grants;
import io.tarn.server.auth.KafkaAcls;
import io.tarn.server.auth.Tokens;
import io.tarn.server.http.ApiServer;
import io.tarn.server.http.ConsoleApi;
import io.tarn.server.http.HttpSettings;
import io.tarn.server.http.IcebergRestApi;
import io.tarn.server.http.MetricsApi;
import io.tarn.server.http.Route;
import io.tarn.server.http.SchemaRegistryApi;
import io.tarn.server.http.TarnApi;
import io.tarn.server.lake.LakeMaintenance;
import io.tarn.server.lake.SnapshotExpiry;
import io.tarn.server.lineage.LineageService;
import io.tarn.server.lineage.OpenLineageEvents;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metrics.MetricReadings;
import io.tarn.server.metrics.TarnMetrics;
import io.tarn.server.pipeline.DeadLetterReplay;
import io.tarn.server.pipeline.PipelinePositions;
import io.tarn.server.pipeline.PipelineService;
import io.tarn.server.pipeline.RetentionWatch;
import io.tarn.server.pipeline.UntilLanded;
import io.tarn.server.query.KafkaLogTail;
import io.tarn.server.query.QueryService;
import io.tarn.server.source.SourceService;
import io.tarn.server.storage.StorageGuard;
import io.tarn.server.table.TableService;
import io.tarn.server.topic.SchemaRegistry;
import io.tarn.server.topic.TopicDeletion;
import io.tarn.server.topic.TopicRates;
import io.tarn.server.topic.TopicService;
import io.tarn.server.topic.TopicTails;
import io.tarn.server.view.ViewService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    private final DataDir dataDir;
    private String bootstrapServers;
    /** Whether the pipelines and sources that should run were resumed after the start. */
    private volatile boolean resumed;

    private KafkaLog log;
    private EmbeddedFlink flink;
    private FlinkCompute compute;
    private LakeCatalog lake;
    private StorageGuard storage;
    private PipelineService pipelines;
    private TopicService topics;
    private QueryService queries;
    private SourceService sources;
    private Optional<String> saslBootstrapServers = Optional.empty();
    private ViewService views;
    private ApiServer api;

    private TarnServer(TarnConfig config) {
        this.config = requireNonNull(config, "config is null");
        this.dataDir = new DataDir(config.dataDir());
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
        HttpSettings http = HttpSettings.from(config);
        requireFree(http.host(), http.port(), "http.port", "--http-port");
        if (config.get(ConfigKeys.LOG_BOOTSTRAP_SERVERS).isBlank()) {
            requireFree(config.get(ConfigKeys.LOG_HOST), config.get(ConfigKeys.LOG_PORT), "log.port", "--kafka-port");
        }
        createDirectory(dataDir.root(), "data-dir");
        String metadataUri = config.get(ConfigKeys.METADATA_URI);
        MetadataStore metadata = metadataUri.isBlank()
                ? MetadataStore.open(dataDir.metadata())
                : MetadataStore.open(
                        metadataUri, config.get(ConfigKeys.METADATA_USER), config.get(ConfigKeys.METADATA_PASSWORD));
        resources.push(metadata);
        Node node = Node.start(config.get(ConfigKeys.NODE_ROLE), dataDir, metadata);
        resources.push(node::release); // after the pipelines' jobs are cancelled
        Tokens tokens = Tokens.open(metadata, dataDir);
        Grants grants = new Grants(metadata);
        startLog();
        if (saslBootstrapServers.isPresent()) {
            KafkaAcls acls = new KafkaAcls(bootstrapServers);
            resources.push(acls);
            grants.onKafka(acls);
        }
        String warehouse = config.get(ConfigKeys.LAKE_WAREHOUSE);
        if (warehouse.isBlank()) {
            warehouse = dataDir.warehouse().toString();
        }
        URI stateRoot = StateStorage.root(config.get(ConfigKeys.COMPUTE_STATE_DIR), dataDir.pipelineState());
        storage = new StorageGuard(
                storageDirectories(warehouse, stateRoot), config.get(ConfigKeys.STORAGE_MIN_FREE_BYTES));
        String fileIo = config.get(ConfigKeys.LAKE_FILE_IO);
        String catalogUri = config.get(ConfigKeys.LAKE_CATALOG_URI);
        lake = LakeCatalog.open(
                new LakeCatalog.Database(
                        catalogUri.isBlank()
                                ? "jdbc:sqlite:" + dataDir.catalog().toAbsolutePath()
                                : catalogUri,
                        config.get(ConfigKeys.LAKE_CATALOG_USER),
                        config.get(ConfigKeys.LAKE_CATALOG_PASSWORD)),
                warehouse,
                fileIo.isBlank() ? Optional.empty() : Optional.of(fileIo),
                config.get(ConfigKeys.LAKE_EXTRA_LOCATIONS),
                s3Properties());
        resources.push(lake);
        deleteQuietly(dataDir.flinkWork());
        StateStorage.initialize(stateRoot, config);
        String cluster = config.get(ConfigKeys.COMPUTE_CLUSTER);
        FlinkAccess flinkAccess;
        if (cluster.isBlank()) {
            flink = EmbeddedFlink.start(
                    dataDir.flinkWork(), RestTls.open(dataDir.flinkTls()), config.get(ConfigKeys.COMPUTE_TASK_SLOTS));
            resources.push(flink);
            flinkAccess = flink.access();
        } else {
            String store = config.get(ConfigKeys.COMPUTE_CLUSTER_TLS_STORE);
            flinkAccess = SessionCluster.connect(
                    cluster,
                    store.isBlank()
                            ? Optional.empty()
                            : Optional.of(RestTls.of(
                                    Path.of(store), config.get(ConfigKeys.COMPUTE_CLUSTER_TLS_STORE_PASSWORD))),
                    dataDir.flinkWork().resolve("job-jars"));
        }
        compute = new FlinkCompute(
                flinkAccess,
                ComputeSettings.from(config, stateRoot)
                        .withQuietPipeline(AuditNames.PIPELINE, config.get(ConfigKeys.AUDIT_LAKE_INTERVAL)),
                lake.properties(),
                bootstrapServers);
        topics = new TopicService(
                log,
                metadata,
                config.get(ConfigKeys.LOG_MAX_RECORD_BYTES),
                storage,
                ColumnTypes::parse,
                ColumnTypes::readProblem);
        PipelinePositions positions = new PipelinePositions(metadata, lake, log);
        RetentionWatch retentionWatch = new RetentionWatch(metadata, positions, log);
        pipelines = new PipelineService(compute, metadata, topics, lake, storage, retentionWatch);
        resources.push(pipelines::suspendAll);
        OpenLineageEvents.of(config, bootstrapServers, metadata, lake).ifPresent(events -> {
            resources.push(events); // sends the events queued before it closes
            pipelines.onRuns(events);
        });
        storage.onChange(pipelines::storageChanged);
        topics.onNewVersion(pipelines::restartReadersLater);
        sources = new SourceService(
                metadata, topics, pipelines, lake, bootstrapServers, SourceService.Settings.from(config, dataDir));
        resources.push(sources);
        views = new ViewService(
                metadata,
                topics,
                pipelines,
                compute.views(),
                compute.jobs(),
                dataDir.views(),
                bootstrapServers,
                config.get(ConfigKeys.LOG_DEFAULT_PARTITIONS),
                config.get(ConfigKeys.QUERY_MAX_ROWS),
                ViewService.Settings.from(config));
        resources.push(views);
        if (node.runsPipelines()) {
            views.resumeAll();
        } else {
            views.follow();
        }
        deleteQuietly(dataDir.querySpill());
        KafkaLogTail tail = new KafkaLogTail(bootstrapServers, config.get(ConfigKeys.QUERY_TIMEOUT));
        resources.push(tail);
        LakeQuery lakeQuery = new LakeQuery(
                lake,
                views.liveTables(),
                tail,
                warehouse,
                dataDir.querySpill(),
                LakeQuery.Limits.from(config),
                config.get(ConfigKeys.QUERY_OBJECT_CACHE_BYTES));
        resources.push(lakeQuery);
        queries = new QueryService(
                lakeQuery,
                compute.queryEngine(topics::streamTables, FlinkQueryEngine.QueryLimits.from(config)),
                config.get(ConfigKeys.QUERY_MAX_ROWS),
                config.get(ConfigKeys.QUERY_TIMEOUT),
                config.get(ConfigKeys.QUERY_MAX_CONCURRENT));
        deleteQuietly(dataDir.maintenanceSpill());
        LakeMaintenance maintenance = new LakeMaintenance(
                lake,
                pipelines,
                new SnapshotExpiry(lake, metadata, config.get(ConfigKeys.LAKE_SNAPSHOT_RETENTION)),
                LakeMaintenance.Settings.from(config, dataDir));
        resources.push(maintenance);
        DeadLetterReplay replays =
                new DeadLetterReplay(pipelines, queries, metadata, log, config.get(ConfigKeys.LOG_MAX_RECORD_BYTES));
        LineageService lineage = new LineageService(metadata);
        TopicRates topicRates = new TopicRates(() -> log.endOffsets(log.listTopics()));
        TopicTails tails = new TopicTails(topics, bootstrapServers);
        resources.push(tails);
        MetricReadings readings = new MetricReadings(metadata, positions, log, lake, compute.jobs(), sources, lineage);
        TarnApi routes = new TarnApi(
                this::parts,
                topics,
                pipelines,
                lake,
                queries,
                sources,
                tokens,
                grants,
                new TopicDeletion(topics, pipelines, sources, tails),
                new TableService(lake, pipelines, queries, maintenance),
                views,
                replays,
                lineage,
                readings::lag,
                config.get(ConfigKeys.LOG_DEFAULT_PARTITIONS),
                config.get(ConfigKeys.HTTP_MAX_RECORDS_PER_REQUEST));
        List<Route> all = new ArrayList<>(routes.routes());
        all.addAll(new SchemaRegistryApi(new SchemaRegistry(topics, metadata, log), grants).routes());
        declareAuditTopic();
        KafkaAudit audit = new KafkaAudit(bootstrapServers, node.id());
        resources.push(audit); // closed after the API server: it sends what the last requests recorded
        TarnMetrics metrics = new TarnMetrics(pipelines::list, readings::read);
        queries.onQuery(metrics::queried);
        resources.push(metrics);
        topics.onIngest(metrics::ingested);
        all.addAll(new MetricsApi(metrics).routes());
        all.addAll(new ConsoleApi(
                        this::parts,
                        topics,
                        topicRates,
                        tails,
                        pipelines,
                        compute.jobs(),
                        sources,
                        readings::read,
                        grants,
                        lake)
                .routes());
        all.addAll(new IcebergRestApi(
                        lake.icebergCatalog(),
                        warehouse,
                        dataDir.root().toString(),
                        restClientDefaults(warehouse),
                        grants)
                .routes());
        api = ApiServer.start(
                http, node.routes(all), tokens, grants, audit, dataDir.root().toString());
        resources.push(api);
        Background background = new Background();
        resources.push(background);
        background.every(Duration.ofSeconds(1), "Checking free storage", storage::check);
        background.every(TopicRates.INTERVAL, "Measuring the topics' rates", topicRates::sample);
        if (!node.runsPipelines()) {
            background.every(Duration.ofSeconds(1), "Following the views", views::follow);
        }
        if (node.runsPipelines()) {
            background.every(Node.RENEWAL, "Renewing the pipelines lease", node::renew);
            if (saslBootstrapServers.isPresent()) {
                background.every(
                        Duration.ofSeconds(30), "Keeping Kafka ACLs in step with the grants", grants::syncKafka);
            }
            background.now("Resuming pipelines and sources", () -> {
                try {
                    pipelines.resumeAll();
                    if (config.get(ConfigKeys.AUDIT_LAKE) && !pipelines.exists(AuditNames.PIPELINE)) {
                        pipelines.create(new PipelineSpec(AuditNames.PIPELINE, AuditNames.pipelineSql()));
                    }
                } finally {
                    try {
                        sources.resumeAll();
                    } finally {
                        resumed = true; // what could not be resumed is FAILED with its reason, or in the log
                    }
                }
            });
            background.now("Finishing replays of dead letters", replays::finishAll);
            background.every(Duration.ofSeconds(30), "Pruning old checkpoints", pipelines::pruneCheckpoints);
            background.every(
                    Duration.ofSeconds(5),
                    "Checking pipelines' topics",
                    () -> pipelines.failWhereTopicsAreMissing(log.listTopics()));
            background.every(Duration.ofSeconds(5), "Reading pipelines' counters", pipelines::observeRunning);
            background.every(
                    Duration.ofSeconds(5),
                    "Deleting landed records",
                    new UntilLanded(metadata, pipelines, positions, log)::run);
            background.every(Duration.ofSeconds(5), "Watching pipelines' retention", retentionWatch::run);
            background.every(
                    config.get(ConfigKeys.LAKE_MAINTENANCE_INTERVAL), "Maintaining lake tables", maintenance::runAll);
        } else {
            resumed = true; // a query node runs no pipeline, view or source
        }
        LOG.info("Tarn started: HTTP {} Kafka {} data {}", httpAddress(), bootstrapServers, dataDir.root());
    }

    /** {@code host:port} of the embedded broker's SASL/SCRAM listener, if it has one ({@code log.sasl-port}). */
    public Optional<String> saslBootstrapServers() {
        return saslBootstrapServers;
    }

    /** The embedded Kafka node (unless {@code log.bootstrap-servers} names a cluster) and Tarn's client of the log. */
    private void startLog() {
        int maxRecordBytes = config.get(ConfigKeys.LOG_MAX_RECORD_BYTES);
        bootstrapServers = config.get(ConfigKeys.LOG_BOOTSTRAP_SERVERS);
        boolean fsync = config.get(ConfigKeys.LOG_DURABILITY).equals("fsync");
        if (fsync && !bootstrapServers.isBlank()) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "log.durability=fsync applies to the embedded broker only; with log.bootstrap-servers the external"
                            + " cluster's replication (min.insync.replicas) decides durability");
        }
        int saslPort = config.get(ConfigKeys.LOG_SASL_PORT);
        if (saslPort >= 0 && !bootstrapServers.isBlank()) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "log.sasl-port applies to the embedded broker only; an external cluster's listeners and ACLs are"
                            + " its own");
        }
        if (bootstrapServers.isBlank()) {
            warnIfReachable(config.get(ConfigKeys.LOG_HOST));
            EmbeddedKafka kafka = EmbeddedKafka.start(
                    dataDir.kafka(),
                    config.get(ConfigKeys.LOG_HOST),
                    config.get(ConfigKeys.LOG_PORT),
                    maxRecordBytes,
                    fsync,
                    saslPort < 0
                            ? Optional.empty()
                            : Optional.of(Map.entry(config.get(ConfigKeys.LOG_SASL_HOST), saslPort)));
            resources.push(kafka);
            bootstrapServers = kafka.bootstrapServers();
            saslBootstrapServers = kafka.saslBootstrapServers();
        }
        log = new KafkaLog(bootstrapServers, maxRecordBytes);
        resources.push(log);
    }

    /** The audit log's topic, declared by the first server that starts ({@link AuditNames}). */
    private void declareAuditTopic() {
        try {
            topics.describe(AuditNames.TOPIC);
            return;
        } catch (TarnException e) {
            if (e.code() != ErrorCode.TOPIC_NOT_FOUND) {
                throw e;
            }
        }
        try {
            topics.create(new TopicSpec(AuditNames.TOPIC, 1, AuditNames.COLUMNS, Optional.empty()));
        } catch (TarnException e) {
            if (e.code() != ErrorCode.TOPIC_ALREADY_EXISTS) { // another server sharing the metadata made it meanwhile
                throw e;
            }
        }
    }

    /** Iceberg's S3FileIO properties of {@code lake.s3.*}: only those set, so that the AWS SDK's defaults apply. */
    private Map<String, String> s3Properties() {
        Map<String, String> properties = new HashMap<>();
        Map.of(
                        "s3.endpoint", ConfigKeys.LAKE_S3_ENDPOINT,
                        "client.region", ConfigKeys.LAKE_S3_REGION,
                        "s3.access-key-id", ConfigKeys.LAKE_S3_ACCESS_KEY_ID,
                        "s3.secret-access-key", ConfigKeys.LAKE_S3_SECRET_ACCESS_KEY)
                .forEach((property, key) -> {
                    if (!config.get(key).isBlank()) {
                        properties.put(property, config.get(key));
                    }
                });
        properties.put(
                "s3.path-style-access",
                config.get(ConfigKeys.LAKE_S3_PATH_STYLE_ACCESS).toString());
        return properties;
    }

    /**
     * What the REST catalog's {@code /config} gives clients as defaults: the warehouse and the S3 endpoint, region and
     * addressing, so that an engine needs only credentials of its own. Tarn's S3 keys are never handed out: they
     * reach every object in the warehouse, whatever a token may read.
     */
    private Map<String, String> restClientDefaults(String warehouse) {
        Map<String, String> defaults = new HashMap<>(s3Properties());
        defaults.remove("s3.access-key-id");
        defaults.remove("s3.secret-access-key");
        if (!WarehouseFileIO.isObjectStore(warehouse)) {
            defaults.clear();
        }
        defaults.put("warehouse", warehouse);
        return defaults;
    }

    /**
     * The local directories whose free space the storage guard watches: the data directory, a local warehouse and a
     * local {@code compute.state-dir}.
     */
    private Map<String, Path> storageDirectories(String warehouse, URI stateRoot) {
        Map<String, Path> directories = new LinkedHashMap<>();
        directories.put("data directory", dataDir.root());
        if (!config.get(ConfigKeys.COMPUTE_STATE_DIR).isBlank()) {
            StateStorage.localDirectory(stateRoot).ifPresent(state -> directories.put("compute.state-dir", state));
        }
        if (!warehouse.contains("://") || warehouse.startsWith("file:")) {
            Path local = warehouse.startsWith("file:") ? Path.of(URI.create(warehouse)) : Path.of(warehouse);
            if (!Files.isDirectory(local)) {
                createDirectory(local, "lake.warehouse");
            }
            directories.put("warehouse", local);
        }
        return directories;
    }

    private static void createDirectory(Path directory, String key) {
        try {
            Directories.createOwnerOnly(directory);
        } catch (UncheckedIOException e) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG, key + " cannot be created: " + TarnException.rootMessage(e), e);
        }
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
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(host, port));
        } catch (BindException e) {
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
            if (!InetAddress.getByName(host).isLoopbackAddress()) {
                LOG.warn(
                        "The embedded Kafka listener on {} accepts any client without authentication; keep log.host on a"
                                + " loopback address unless the network is trusted (docs/security.md)",
                        host);
            }
        } catch (UnknownHostException e) {
            throw new TarnException(ErrorCode.INVALID_CONFIG, "log.host '%s' cannot be resolved".formatted(host), e);
        }
    }

    /**
     * Whether each part answers now (one cheap call each), storage is above its reserve, and the pipelines and sources
     * that should run were resumed after the start.
     */
    Map<String, Boolean> parts() {
        Map<String, Boolean> parts = new LinkedHashMap<>();
        parts.put("log", check(() -> log.listTopics()));
        parts.put("lake", check(() -> lake.listTables()));
        parts.put("compute", check(() -> compute.jobs().probe()));
        parts.put("storage", storage.problem().isEmpty());
        parts.put("resumed", resumed);
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

    public ViewService views() {
        return views;
    }

    public SourceService sources() {
        return sources;
    }

    public QueryService queries() {
        return queries;
    }

    public Path dataDir() {
        return dataDir.root();
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
