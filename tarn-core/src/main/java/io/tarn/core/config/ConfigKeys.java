package io.tarn.core.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;

/** Every configuration key Tarn knows, in the order the reference documents them. */
public final class ConfigKeys {
    public static final ConfigKey<String> DATA_DIR = text(
            "data-dir", "./tarn-data", "Directory holding everything Tarn stores: log, checkpoints, catalog, lake.");

    public static final ConfigKey<String> HTTP_HOST = text(
            "http.host",
            "127.0.0.1",
            "Address the HTTP API binds to. A non-loopback address (e.g. 0.0.0.0, every interface) needs"
                    + " http.tls.key-store: Tarn refuses to serve tokens in clear text over a network.");
    public static final ConfigKey<Integer> HTTP_PORT =
            port("http.port", "8080", "Port of the HTTP API; 0 picks a free one.");
    public static final ConfigKey<Integer> HTTP_THREADS =
            integer("http.threads", "16", 1, 1024, "Threads serving HTTP requests.");
    public static final ConfigKey<Long> HTTP_MAX_REQUEST_BYTES =
            bytes("http.max-request-bytes", "33554432", "Largest HTTP request body accepted; larger ones get 413.");
    public static final ConfigKey<Integer> HTTP_MAX_RECORDS_PER_REQUEST = integer(
            "http.max-records-per-request",
            "100000",
            1,
            10_000_000,
            "Most records one ingest request may carry; a request with more is refused (413) before any is kept.");
    public static final ConfigKey<Integer> HTTP_MAX_CONNECTIONS = integer(
            "http.max-connections",
            "256",
            1,
            100_000,
            "Open HTTP connections at most; further clients wait until one closes.");
    public static final ConfigKey<Duration> HTTP_READ_TIMEOUT = duration(
            "http.read-timeout",
            "30s",
            "How long a client may take to send a request's body (slower ones get 408 and their connection is"
                    + " closed); twice as long is what a client may take to send its headers, and how long an idle"
                    + " kept-alive connection stays open. Bodies are read without holding a request thread.");
    public static final ConfigKey<List<String>> HTTP_ALLOWED_HOSTS = list(
            "http.allowed-hosts",
            "",
            "Host names (besides localhost, IP addresses and http.host) under which clients reach the API, e.g. a"
                    + " reverse proxy's name. Requests whose Host header names any other host are refused (403), which"
                    + " defeats DNS rebinding.");
    public static final ConfigKey<String> HTTP_TLS_KEY_STORE = text(
            "http.tls.key-store",
            "",
            "PKCS12 (or JKS) key store with the HTTP API's private key and certificate chain. Set: the API speaks"
                    + " HTTPS only. Empty: plain HTTP, allowed on loopback addresses only.");
    public static final ConfigKey<String> HTTP_TLS_KEY_STORE_PASSWORD = text(
            "http.tls.key-store-password",
            "",
            "Password of http.tls.key-store and of its key. Prefer the environment variable to the config file.");

    public static final ConfigKey<String> LOG_BOOTSTRAP_SERVERS = text(
            "log.bootstrap-servers",
            "",
            "Kafka cluster to use, as host:port[,host:port]. Empty: start the embedded single-node KRaft broker.");
    public static final ConfigKey<String> LOG_HOST =
            text("log.host", "localhost", "Host name the embedded broker binds to and advertises.");
    public static final ConfigKey<Integer> LOG_PORT =
            port("log.port", "9092", "Kafka protocol port of the embedded broker; 0 picks a free one.");
    public static final ConfigKey<Integer> LOG_SASL_PORT = integer(
            "log.sasl-port",
            "-1",
            -1,
            65_535,
            "Port of the embedded broker's second listener, SASL/SCRAM (SCRAM-SHA-256 or -512; user: a token's name,"
                    + " password: the token), whose clients may do what their tokens' grants give (Kafka ACLs Tarn keeps"
                    + " in step); the first listener's local clients may do everything. 0 picks a free one; -1: none,"
                    + " and no Kafka authorization.");
    public static final ConfigKey<String> LOG_SASL_HOST = text(
            "log.sasl-host",
            "localhost",
            "Host name the embedded broker's SASL/SCRAM listener binds to and advertises.");
    public static final ConfigKey<Integer> LOG_DEFAULT_PARTITIONS =
            integer("log.default-partitions", "1", 1, 10_000, "Partitions of a topic created without a count.");
    public static final ConfigKey<Integer> LOG_MAX_RECORD_BYTES = integer(
            "log.max-record-bytes",
            "1048576",
            1024,
            64 * 1024 * 1024,
            "Largest record (serialized JSON value) HTTP ingest accepts; the embedded broker accepts batches up to the larger of this and 1 MiB, plus 64 KiB.");

    public static final ConfigKey<String> LOG_DURABILITY = new ConfigKey<>(
            "log.durability",
            "string",
            Function.identity(),
            "os",
            v -> v.equals("os") || v.equals("fsync"),
            "os or fsync",
            "When an acknowledged record is safe on the embedded broker: os = in the page cache (survives a crash of"
                    + " Tarn, not a power loss); fsync = on disk (every append is fsynced before Kafka acknowledges it)."
                    + " With log.bootstrap-servers, durability is the external cluster's replication.");

    public static final ConfigKey<Long> STORAGE_MIN_FREE_BYTES = new ConfigKey<>(
            "storage.min-free-bytes",
            "bytes",
            Long::parseLong,
            "268435456",
            v -> v >= 0,
            "0 or more",
            "Free space Tarn keeps on the file systems of the data dir and a local warehouse. Below it, ingest answers"
                    + " 503 and pipelines pause until space is back (checked every second). 0 turns this off.");

    public static final ConfigKey<String> COMPUTE_CLUSTER = text(
            "compute.cluster",
            "",
            "REST address of a Flink session cluster (https://jobmanager:8081 with compute.cluster-tls-store, or"
                    + " http://… on a network only Tarn reaches) that runs pipelines, views and Flink"
                    + " queries instead of the embedded MiniCluster; Tarn ships its connectors and formats with each"
                    + " job. The cluster's nodes must reach the lake (a shared lake.catalog-uri and warehouse),"
                    + " compute.state-dir and the Kafka cluster. Empty: the embedded MiniCluster.");
    public static final ConfigKey<String> COMPUTE_CLUSTER_TLS_STORE = text(
            "compute.cluster-tls-store",
            "",
            "PKCS12 store holding the key and certificate with which Tarn authenticates to the Flink cluster's REST"
                    + " endpoint and which it trusts there: Flink's mutual TLS for REST (security.ssl.rest.enabled and"
                    + " security.ssl.rest.authentication-enabled, the same store as the cluster's"
                    + " security.ssl.rest.keystore and truststore). Required with an https:// compute.cluster.");
    public static final ConfigKey<String> COMPUTE_CLUSTER_TLS_STORE_PASSWORD = text(
            "compute.cluster-tls-store-password",
            "",
            "Password of compute.cluster-tls-store and of its key. Prefer the environment variable to the config"
                    + " file.");
    public static final ConfigKey<String> COMPUTE_STATE_DIR = text(
            "compute.state-dir",
            "",
            "Where pipelines' checkpoints and savepoints go: an absolute directory, or s3://bucket/prefix in"
                    + " S3-compatible storage (reached with lake.s3.* through Flink's s3-fs-hadoop plugin, which"
                    + " ./tarn loads from FLINK_PLUGINS_DIR). With compute.cluster it must be storage that Tarn and"
                    + " every node of the cluster reach at the same location: S3, or a shared file system."
                    + " Empty: pipeline-state in data-dir.");
    public static final ConfigKey<Integer> COMPUTE_TASK_SLOTS = integer(
            "compute.task-slots", "8", 1, 1024, "Task slots of the embedded Flink MiniCluster (one TaskManager).");
    public static final ConfigKey<Integer> COMPUTE_PARALLELISM =
            integer("compute.parallelism", "1", 1, 1024, "Default parallelism of a pipeline's operators.");
    public static final ConfigKey<Duration> COMPUTE_CHECKPOINT_INTERVAL = duration(
            "compute.checkpoint-interval",
            "2s",
            "Checkpoint interval of pipelines; lake tables become visible at each checkpoint, so this is the freshness.");
    public static final ConfigKey<Integer> COMPUTE_RETAINED_CHECKPOINTS =
            integer("compute.retained-checkpoints", "3", 1, 100, "Completed checkpoints kept per pipeline.");
    public static final ConfigKey<Integer> COMPUTE_RESTART_MAX_FAILURES = integer(
            "compute.restart.max-failures",
            "5",
            1,
            1000,
            "Failures within compute.restart.failure-interval after which a pipeline is FAILED instead of restarted.");
    public static final ConfigKey<Duration> COMPUTE_RESTART_FAILURE_INTERVAL =
            duration("compute.restart.failure-interval", "5min", "Window in which pipeline failures are counted.");
    public static final ConfigKey<Duration> COMPUTE_RESTART_DELAY =
            duration("compute.restart.delay", "2s", "Delay before a failed pipeline task is restarted.");

    public static final ConfigKey<Boolean> COMPUTE_OBJECT_REUSE = bool(
            "compute.object-reuse",
            "true",
            "Let chained operators of a pipeline hand rows to each other without copying them (Flink's"
                    + " pipeline.object-reuse). Flink's SQL operators, Kafka and Iceberg sinks are safe with it; turn it"
                    + " off only for a user-defined function that keeps references to its input rows.");
    public static final ConfigKey<Boolean> COMPUTE_LAKE_WRITER_THREAD = bool(
            "compute.lake-writer-thread",
            "true",
            "Encode the rows a pipeline writes into a lake table on a thread of their own per sink subtask, so that"
                    + " decoding and transforming rows and encoding them into Parquet use two cores. Commits and"
                    + " checkpoints are unchanged.");
    public static final ConfigKey<Boolean> COMPUTE_LANDING_JOBS = bool(
            "compute.landing-jobs",
            "true",
            "Run a pipeline whose one INSERT only copies value columns of a JSON topic into an append-only lake table"
                    + " (columns picked, reordered or renamed, timestamps widened) as a landing job: the job Flink"
                    + " plans for it without the planner's row conversion in between, with the same operators and"
                    + " state, so pipelines move between the two when their SQL changes. Needs"
                    + " compute.lake-writer-thread.");

    public static final ConfigKey<List<String>> COMPUTE_SQL_ALLOWED_CONNECTORS = list(
            "compute.sql.allowed-connectors",
            "",
            "Connectors pipelines may declare tables with, besides datagen, blackhole and print (topics and lake"
                    + " tables are Tarn's own). Each one added is an operator's decision: filesystem, for one, reads"
                    + " and writes any path the Tarn process may.");
    public static final ConfigKey<List<String>> COMPUTE_SQL_ALLOWED_FUNCTIONS = list(
            "compute.sql.allowed-functions",
            "",
            "Classes on Tarn's classpath that pipelines may declare as functions (CREATE [TEMPORARY] FUNCTION name AS"
                    + " 'class'). No other function can be declared, and never from a jar (USING JAR).");

    public static final ConfigKey<String> LAKE_WAREHOUSE =
            text("lake.warehouse", "", "Warehouse location of lake tables. Empty: the warehouse/ folder of data-dir.");

    public static final ConfigKey<List<String>> LAKE_EXTRA_LOCATIONS = list(
            "lake.extra-locations",
            "",
            "Local directories besides the warehouse where lake tables may keep files, e.g. tables that engines create"
                    + " through the Iceberg REST catalog with a location of their own. With the default FileIO, Tarn"
                    + " reads, writes and deletes table files in the warehouse and these directories only.");

    public static final ConfigKey<String> LAKE_CATALOG_URI = text(
            "lake.catalog-uri",
            "",
            "JDBC URL of the database that holds the lake's Iceberg catalog (its tables and their current metadata):"
                    + " jdbc:postgresql://host:5432/db to share one lake between Tarn servers. Empty: SQLite,"
                    + " catalog.db in data-dir.");

    public static final ConfigKey<String> LAKE_CATALOG_USER =
            text("lake.catalog-user", "", "User of lake.catalog-uri. Empty: none, or the one the URL names.");

    public static final ConfigKey<String> LAKE_CATALOG_PASSWORD = text(
            "lake.catalog-password",
            "",
            "Password of lake.catalog-user. Prefer the environment variable (TARN_LAKE_CATALOG_PASSWORD) to the config"
                    + " file.");

    public static final ConfigKey<String> LAKE_S3_ENDPOINT = text(
            "lake.s3.endpoint",
            "",
            "With an s3:// lake.warehouse: the S3 API's address, for S3-compatible stores (http://minio:9000)."
                    + " Empty: AWS S3 of lake.s3.region.");

    public static final ConfigKey<String> LAKE_S3_REGION = text(
            "lake.s3.region",
            "",
            "With an s3:// lake.warehouse: the region. Empty: the AWS SDK's default (AWS_REGION, the profile).");

    public static final ConfigKey<Boolean> LAKE_S3_PATH_STYLE_ACCESS = bool(
            "lake.s3.path-style-access",
            "false",
            "With an s3:// lake.warehouse: address buckets as http://endpoint/bucket (most S3-compatible stores)"
                    + " rather than http://bucket.endpoint.");

    public static final ConfigKey<String> LAKE_S3_ACCESS_KEY_ID = text(
            "lake.s3.access-key-id",
            "",
            "With an s3:// lake.warehouse: the access key. Empty: the AWS SDK's default credentials (AWS_ACCESS_KEY_ID"
                    + " and AWS_SECRET_ACCESS_KEY, the profile, an instance role).");

    public static final ConfigKey<String> LAKE_S3_SECRET_ACCESS_KEY = text(
            "lake.s3.secret-access-key",
            "",
            "The secret of lake.s3.access-key-id. Prefer the environment variable (TARN_LAKE_S3_SECRET_ACCESS_KEY) to"
                    + " the config file.");

    public static final ConfigKey<String> LAKE_FILE_IO = text(
            "lake.file-io",
            "",
            "Iceberg FileIO class that reads and writes table files (the io-impl catalog property), on Tarn's"
                    + " classpath. Empty: Tarn's WarehouseFileIO, Iceberg's HadoopFileIO for local paths confined to the"
                    + " warehouse.");

    public static final ConfigKey<Duration> LAKE_SNAPSHOT_RETENTION = duration(
            "lake.snapshot-retention",
            "1h",
            "How far back lake tables keep snapshots for time travel; older ones are expired (with the files only they"
                    + " reference), except those a pipeline needs to resume exactly once.");
    public static final ConfigKey<Boolean> LAKE_MAINTENANCE_ENABLED = bool(
            "lake.maintenance-enabled",
            "true",
            "Whether Tarn maintains its lake tables by itself: compaction, snapshot expiry, manifest rewrite and orphan"
                    + " removal, every lake.maintenance-interval. A table opts out with the table property"
                    + " tarn.maintenance.enabled=false; POST /v1/tables/{name}/maintenance runs it at any time.");
    public static final ConfigKey<Duration> LAKE_MAINTENANCE_INTERVAL = duration(
            "lake.maintenance-interval",
            "5min",
            "How often each lake table is maintained: its small files compacted and its deletes applied, old snapshots"
                    + " expired, manifests rewritten when commits left many.");
    public static final ConfigKey<Long> LAKE_TARGET_FILE_SIZE = bytes(
            "lake.target-file-size",
            "134217728",
            "Size compaction writes data files toward, unless a table sets write.target-file-size-bytes. Files smaller"
                    + " than three quarters of it are compacted.");
    public static final ConfigKey<Integer> LAKE_COMPACTION_MIN_FILES = integer(
            "lake.compaction-min-files",
            "5",
            2,
            100_000,
            "Small files a partition needs before compaction rewrites them; files that delete files apply to are"
                    + " always rewritten.");
    public static final ConfigKey<Long> LAKE_COMPACTION_MAX_BYTES = bytes(
            "lake.compaction-max-bytes",
            "2147483648",
            "Bytes of data files one table's compaction rewrites per run at most; the rest waits for the next run.");
    public static final ConfigKey<Integer> LAKE_MAINTENANCE_THREADS = integer(
            "lake.maintenance-threads",
            "1",
            1,
            256,
            "Threads compaction reads and writes with; the rest of the machine stays with ingest and queries.");
    public static final ConfigKey<Integer> LAKE_MAINTENANCE_NICE = integer(
            "lake.maintenance-nice",
            "19",
            0,
            19,
            "Nice value of the thread maintenance runs on (Linux): at 19 a busy machine gives compaction only the CPU"
                    + " that ingest and queries leave, an idle one all it asks for; 0 runs it at their priority.");
    public static final ConfigKey<Long> LAKE_MAINTENANCE_MEMORY_LIMIT = bytes(
            "lake.maintenance-memory-limit",
            "536870912",
            "Memory compaction may use; beyond it, it spills to maintenance-spill/ in data-dir.");
    public static final ConfigKey<Duration> LAKE_ORPHAN_AGE = duration(
            "lake.orphan-age",
            "1d",
            "Files in a lake table's directory that no snapshot references are deleted once they are this old (a"
                    + " crashed writer's, a rewrite's that lost a conflict). Younger ones may belong to a commit in"
                    + " flight. Orphans are looked for hourly, and never while a pipeline writing the table is stopped or"
                    + " failed (it may resume with files it has not committed yet).");
    public static final ConfigKey<Integer> LAKE_METADATA_VERSIONS = integer(
            "lake.metadata-versions",
            "20",
            1,
            10_000,
            "metadata.json versions a lake table keeps; older ones are deleted as commits happen (Iceberg's"
                    + " write.metadata.previous-versions-max, set on tables that do not set it themselves).");

    public static final ConfigKey<Duration> CDC_HEARTBEAT_INTERVAL = duration(
            "cdc.heartbeat-interval",
            "10s",
            "How often a change data capture source confirms its position to its database even when its tables do not"
                    + " change, so the database can recycle the WAL written meanwhile for other tables.");
    public static final ConfigKey<Integer> VIEWS_MAX_SUBSCRIBERS = integer(
            "views.max-subscribers",
            "100",
            1,
            10_000,
            "Most clients following live views' changes (GET /v1/views/{name}/changes) at once, each on a thread and a"
                    + " Kafka consumer of its own; more are refused with 503 QUERY_BUSY.");
    public static final ConfigKey<Integer> VIEWS_SUBSCRIBER_MAX_LAG = integer(
            "views.subscriber-max-lag",
            "100000",
            1,
            100_000_000,
            "Changes a client following a view may fall behind the view's topic before it is cut off (with an event"
                    + " saying so): a slow client never slows a view down.");
    public static final ConfigKey<Long> CDC_WAL_WARNING_BYTES = bytes(
            "cdc.wal-warning-bytes",
            "1073741824",
            "WAL a source's replication slot may make its database keep before the source's status carries a warning"
                    + " (the slot holds WAL until Tarn has captured it; a stopped or failing source makes it grow).");

    public static final ConfigKey<Integer> QUERY_MAX_ROWS =
            integer("query.max-rows", "10000", 1, 10_000_000, "Most rows a query answer returns; more are cut off.");
    public static final ConfigKey<Long> QUERY_MAX_RESULT_BYTES = bytes(
            "query.max-result-bytes",
            "67108864",
            "Most bytes of values a query answer returns (as JSON text, roughly); more rows are cut off like rows"
                    + " beyond query.max-rows.");
    public static final ConfigKey<Duration> QUERY_TIMEOUT = duration(
            "query.timeout",
            "60s",
            "Longest a lake query may run (either engine); it is cancelled then and answered with QUERY_TIMEOUT.");
    public static final ConfigKey<Integer> QUERY_MAX_CONCURRENT = integer(
            "query.max-concurrent",
            "4",
            1,
            256,
            "Lake queries running at once; more wait up to query.timeout for a turn. With query.memory-limit this"
                    + " bounds the memory queries take together.");

    public static final ConfigKey<Long> QUERY_MEMORY_LIMIT = bytes(
            "query.memory-limit",
            "2147483648",
            "Memory one lake query (the DuckDB fast path) may use; beyond it, joins, aggregates and sorts spill to"
                    + " query-spill/ in data-dir and other queries fail with a clear error. Each running query has its"
                    + " own limit.");
    public static final ConfigKey<Long> QUERY_OBJECT_CACHE_BYTES = bytes(
            "query.object-cache-bytes",
            "4294967296",
            "Disk the DuckDB fast path keeps copies of lake files in object storage (lake.warehouse=s3://…) in, under"
                    + " query-spill/objects/ in data-dir: a query fetches the files it reads that are not there yet."
                    + " Copies that running queries read are kept beyond it; the least recently used others go.");

    public static final ConfigKey<Boolean> AUDIT_LAKE = bool(
            "audit.lake",
            "true",
            "Land the audit log (every API call, on the topic tarn.audit) in the lake table lake.tarn.audit with Tarn's"
                    + " pipeline tarn-audit. false: the topic only (a Flink job fewer).");

    public static final ConfigKey<Duration> AUDIT_LAKE_INTERVAL = duration(
            "audit.lake-interval",
            "30s",
            "How often tarn-audit commits the audit log to lake.tarn.audit (its checkpoint interval; it runs at"
                    + " parallelism 1): the table is at most this far behind the topic tarn.audit, which has every event"
                    + " at once. Shorter costs ingest throughput: each commit writes files.");

    public static final ConfigKey<String> LINEAGE_OPENLINEAGE_URL = text(
            "lineage.openlineage-url",
            "",
            "An OpenLineage HTTP endpoint (Marquez: http://host:5000) that gets a run event (START, COMPLETE, FAIL,"
                    + " ABORT) of each pipeline job, posted to <url>/api/v1/lineage. Empty: none.");

    public static final ConfigKey<String> LINEAGE_OPENLINEAGE_API_KEY = text(
            "lineage.openlineage-api-key",
            "",
            "Bearer API key of lineage.openlineage-url. Prefer the environment variable"
                    + " (TARN_LINEAGE_OPENLINEAGE_API_KEY) to the config file.");

    public static final ConfigKey<String> LINEAGE_OPENLINEAGE_FILE = text(
            "lineage.openlineage-file",
            "",
            "A file that gets each OpenLineage run event as a line of JSON (appended). Empty: none.");

    public static final ConfigKey<String> LINEAGE_OPENLINEAGE_NAMESPACE =
            text("lineage.openlineage-namespace", "tarn", "The OpenLineage namespace of Tarn's pipeline jobs.");

    public static final ConfigKey<String> NODE_ROLE = new ConfigKey<>(
            "node.role",
            "string",
            v -> v.toLowerCase(Locale.ROOT),
            "all",
            v -> List.of("all", "query").contains(v),
            "all or query",
            "all: this server runs pipelines, views, sources and lake maintenance, and only one server sharing"
                    + " metadata.uri may (it holds a lease there). query: it serves topics and ingest, lake SQL, the"
                    + " Iceberg REST catalog and tokens, runs no Flink job and maintains no table; it shares"
                    + " metadata.uri, lake.catalog-uri, lake.warehouse and log.bootstrap-servers with the server whose"
                    + " role is all.");

    public static final ConfigKey<String> METADATA_URI = text(
            "metadata.uri",
            "",
            "JDBC URL of the database that holds Tarn's own metadata (topics as declared, pipelines, views, sources,"
                    + " tokens): jdbc:postgresql://host:5432/db to share it between Tarn servers. Empty: SQLite, tarn.db"
                    + " in data-dir.");

    public static final ConfigKey<String> METADATA_USER =
            text("metadata.user", "", "User of metadata.uri. Empty: none, or the one the URL names.");

    public static final ConfigKey<String> METADATA_PASSWORD = text(
            "metadata.password",
            "",
            "Password of metadata.user. Prefer the environment variable (TARN_METADATA_PASSWORD) to the config file.");

    public static final ConfigKey<String> LOGGING_FILE = text(
            "logging.file",
            "",
            "File Tarn's log goes to (appended to; rotate it with logrotate's copytruncate). Empty: standard error.");
    public static final ConfigKey<String> LOGGING_LEVEL = new ConfigKey<>(
            "logging.level",
            "string",
            v -> v.toUpperCase(Locale.ROOT),
            "INFO",
            v -> List.of("ERROR", "WARN", "INFO", "DEBUG", "TRACE").contains(v),
            "ERROR, WARN, INFO, DEBUG or TRACE",
            "Level of Tarn's own log lines (lifecycle events are INFO, one line each). The engines inside log at WARN"
                    + " and above.");

    public static final ConfigKey<Integer> DEMO_EVENTS_PER_SECOND =
            integer("demo.events-per-second", "50", 1, 1_000_000, "Rate of the click generator of `tarn demo`.");

    public static final List<ConfigKey<?>> ALL = List.of(
            DATA_DIR,
            HTTP_HOST,
            HTTP_PORT,
            HTTP_THREADS,
            HTTP_MAX_REQUEST_BYTES,
            HTTP_MAX_RECORDS_PER_REQUEST,
            HTTP_MAX_CONNECTIONS,
            HTTP_READ_TIMEOUT,
            HTTP_ALLOWED_HOSTS,
            HTTP_TLS_KEY_STORE,
            HTTP_TLS_KEY_STORE_PASSWORD,
            LOG_BOOTSTRAP_SERVERS,
            LOG_HOST,
            LOG_PORT,
            LOG_SASL_PORT,
            LOG_SASL_HOST,
            LOG_DEFAULT_PARTITIONS,
            LOG_MAX_RECORD_BYTES,
            LOG_DURABILITY,
            STORAGE_MIN_FREE_BYTES,
            COMPUTE_CLUSTER,
            COMPUTE_CLUSTER_TLS_STORE,
            COMPUTE_CLUSTER_TLS_STORE_PASSWORD,
            COMPUTE_STATE_DIR,
            COMPUTE_TASK_SLOTS,
            COMPUTE_PARALLELISM,
            COMPUTE_CHECKPOINT_INTERVAL,
            COMPUTE_RETAINED_CHECKPOINTS,
            COMPUTE_RESTART_MAX_FAILURES,
            COMPUTE_RESTART_FAILURE_INTERVAL,
            COMPUTE_RESTART_DELAY,
            COMPUTE_OBJECT_REUSE,
            COMPUTE_LAKE_WRITER_THREAD,
            COMPUTE_LANDING_JOBS,
            COMPUTE_SQL_ALLOWED_CONNECTORS,
            COMPUTE_SQL_ALLOWED_FUNCTIONS,
            LAKE_WAREHOUSE,
            LAKE_EXTRA_LOCATIONS,
            LAKE_CATALOG_URI,
            LAKE_CATALOG_USER,
            LAKE_CATALOG_PASSWORD,
            LAKE_S3_ENDPOINT,
            LAKE_S3_REGION,
            LAKE_S3_PATH_STYLE_ACCESS,
            LAKE_S3_ACCESS_KEY_ID,
            LAKE_S3_SECRET_ACCESS_KEY,
            LAKE_FILE_IO,
            LAKE_SNAPSHOT_RETENTION,
            LAKE_MAINTENANCE_ENABLED,
            LAKE_MAINTENANCE_INTERVAL,
            LAKE_TARGET_FILE_SIZE,
            LAKE_COMPACTION_MIN_FILES,
            LAKE_COMPACTION_MAX_BYTES,
            LAKE_MAINTENANCE_THREADS,
            LAKE_MAINTENANCE_NICE,
            LAKE_MAINTENANCE_MEMORY_LIMIT,
            LAKE_ORPHAN_AGE,
            LAKE_METADATA_VERSIONS,
            CDC_HEARTBEAT_INTERVAL,
            CDC_WAL_WARNING_BYTES,
            VIEWS_MAX_SUBSCRIBERS,
            VIEWS_SUBSCRIBER_MAX_LAG,
            QUERY_MAX_ROWS,
            QUERY_MAX_RESULT_BYTES,
            QUERY_TIMEOUT,
            QUERY_MAX_CONCURRENT,
            QUERY_MEMORY_LIMIT,
            QUERY_OBJECT_CACHE_BYTES,
            LINEAGE_OPENLINEAGE_URL,
            LINEAGE_OPENLINEAGE_API_KEY,
            LINEAGE_OPENLINEAGE_FILE,
            LINEAGE_OPENLINEAGE_NAMESPACE,
            AUDIT_LAKE,
            AUDIT_LAKE_INTERVAL,
            NODE_ROLE,
            METADATA_URI,
            METADATA_USER,
            METADATA_PASSWORD,
            LOGGING_FILE,
            LOGGING_LEVEL,
            DEMO_EVENTS_PER_SECOND);

    private ConfigKeys() {}

    private static ConfigKey<String> text(String name, String defaultText, String description) {
        return new ConfigKey<>(name, "string", Function.identity(), defaultText, v -> true, "any text", description);
    }

    /** A comma-separated list; blanks around items are dropped, empty items are refused. */
    private static ConfigKey<List<String>> list(String name, String defaultText, String description) {
        return new ConfigKey<>(
                name,
                "list (comma-separated)",
                text -> text.isBlank()
                        ? List.of()
                        : Arrays.stream(text.split(",", -1)).map(String::strip).toList(),
                defaultText,
                items -> items.stream().noneMatch(String::isEmpty),
                "no empty items",
                description);
    }

    private static ConfigKey<Integer> integer(String name, String defaultText, int min, int max, String description) {
        Predicate<Integer> rule = v -> v >= min && v <= max;
        return new ConfigKey<>(
                name,
                "integer",
                Integer::parseInt,
                defaultText,
                rule,
                "between %d and %d".formatted(min, max),
                description);
    }

    private static ConfigKey<Boolean> bool(String name, String defaultText, String description) {
        return new ConfigKey<>(
                name,
                "boolean",
                text -> switch (text.trim().toLowerCase(Locale.ROOT)) {
                    case "true" -> true;
                    case "false" -> false;
                    default -> throw new IllegalArgumentException("must be true or false");
                },
                defaultText,
                v -> true,
                "true or false",
                description);
    }

    private static ConfigKey<Integer> port(String name, String defaultText, String description) {
        return integer(name, defaultText, 0, 65535, description);
    }

    private static ConfigKey<Long> bytes(String name, String defaultText, String description) {
        return new ConfigKey<>(name, "bytes", Long::parseLong, defaultText, v -> v > 0, "positive", description);
    }

    private static ConfigKey<Duration> duration(String name, String defaultText, String description) {
        return new ConfigKey<>(
                name,
                "duration (e.g. 500ms, 2s, 5min, 1h)",
                ConfigKeys::parseDuration,
                defaultText,
                d -> !d.isNegative() && !d.isZero(),
                "positive",
                description);
    }

    /** A duration as the configuration writes it: {@code 2s}, {@code 500ms}, {@code 5min}. */
    public static String text(Duration duration) {
        long millis = duration.toMillis();
        if (millis % 60_000 == 0 && millis > 0) {
            return millis / 60_000 + "min";
        }
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /**
     * Parses a duration such as {@code 500ms}, {@code 2s}, {@code 5min}, {@code 1h} or {@code 1d}; a bare number is
     * seconds.
     */
    public static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        int split = 0;
        while (split < t.length() && Character.isDigit(t.charAt(split))) {
            split++;
        }
        if (split == 0) {
            throw new IllegalArgumentException("duration must start with a number: " + text);
        }
        long amount = Long.parseLong(t.substring(0, split));
        String unit = t.substring(split).trim();
        return switch (unit) {
            case "ms" -> Duration.ofMillis(amount);
            case "s", "" -> Duration.ofSeconds(amount);
            case "min", "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            case "d" -> Duration.ofDays(amount);
            default -> throw new IllegalArgumentException("unknown duration unit '" + unit + "'");
        };
    }
}
