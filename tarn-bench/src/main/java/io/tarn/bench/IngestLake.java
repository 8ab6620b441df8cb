package io.tarn.bench;

import io.tarn.compute.json.TarnJsonFormatFactory;
import io.tarn.lake.LakeCatalog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.utils.LogicalTypeParser;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.flink.FlinkWriteConf;
import org.apache.iceberg.flink.sink.RowDataTaskWriterFactory;
import org.apache.iceberg.flink.sink.SinkUtil;
import org.apache.iceberg.io.TaskWriter;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Workload 1, ingest to committed lake rows: click events pre-loaded into a topic; the time until all of them are
 * committed rows of an Iceberg table, through a Tarn pipeline and through a plain Flink SQL job written as a user
 * would (Kafka connector, JSON format, Iceberg v2 sink, same cluster, parallelism and checkpoint interval), and the
 * time a raw Kafka consumer takes to read them (the log's ceiling), and the time the same decoder and Iceberg writer
 * take in one thread without Flink ({@link #directWriter}: the ceiling of a landing path built from them).
 */
final class IngestLake {
    static final String NAME = "ingest-lake";
    static final String TOPIC = "bench_clicks";
    private static final int PARTITIONS = 2;
    private static final Duration TIMEOUT = Duration.ofMinutes(30);
    private static final String DIRECT = "direct-writer";
    /** Files are closed and committed at this interval, as the pipelines' checkpoints do. */
    private static final long COMMIT_INTERVAL_NANOS = Duration.ofSeconds(2).toNanos();

    private final BenchContext context;
    private final long events;

    IngestLake(BenchContext context) {
        this.context = context;
        this.events = context.settings.lakeEvents();
    }

    List<Run> run() throws Exception {
        preloadOnce(context);
        return context.repeat(i -> {
            List<Run> round = new ArrayList<>();
            if (context.settings.runs("tarn")) {
                round.add(tarn(i));
            }
            if (context.settings.runs("plain-flink")) {
                for (int parallelism : BenchContext.plainFlinkParallelisms()) {
                    round.add(plainFlink(i, parallelism));
                }
            }
            if (context.settings.runs("raw-kafka")) {
                round.add(rawKafka(i));
            }
            if (context.settings.runs(DIRECT)) {
                round.add(directWriter(i));
            }
            return round;
        });
    }

    /** Creates the click topic and loads {@code lakeEvents} events into it, unless an earlier workload did. */
    static synchronized void preloadOnce(BenchContext context) {
        if (context.preloaded) {
            return;
        }
        context.createTopic(TOPIC, PARTITIONS);
        preload(context, TOPIC, context.settings.lakeEvents());
        context.preloaded = true;
    }

    /** Loads {@code events} click events into a topic of two partitions, round robin. */
    static void preload(BenchContext context, String topic, long events) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, context.server.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(512 * 1024));
        long start = System.nanoTime();
        try (var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (long n = 0; n < events; n++) {
                producer.send(new ProducerRecord<>(topic, (int) (n % PARTITIONS), null, Events.bytes(n)));
            }
            producer.flush();
        }
        Report.log(
                "pre-loaded %d events into %s in %.1f s".formatted(events, topic, (System.nanoTime() - start) / 1e9));
    }

    private Run tarn(int round) {
        String table = "bench.tarn_" + round;
        String pipeline = "bench-tarn-" + round;
        Timer timer = new Timer();
        context.createPipeline(pipeline, BenchContext.landingSql(table, TOPIC));
        BenchContext.awaitAtLeast(table + " rows", () -> context.committedRows(table), events, TIMEOUT, () -> {
            var status = context.request("GET", "/v1/pipelines/" + pipeline, null, 200);
            String state = status.path("state").asText();
            return state.equals("FAILED") || state.equals("RESTARTING")
                    ? Optional.of("pipeline " + pipeline + " is " + state + ": " + status.path("lastError"))
                    : Optional.empty();
        });
        Run run = timer.stop("tarn", round, context.tableFigures(table));
        context.request("DELETE", "/v1/pipelines/" + pipeline, null, 204);
        context.server.lake().dropAndPurge(table);
        return run;
    }

    private Run plainFlink(int round, int parallelism) throws Exception {
        String variant = Report.plainFlink(parallelism);
        String table = "bench.flink_p%d_%d".formatted(parallelism, round);
        Timer timer = new Timer();
        TableEnvironment env = context.plainFlink("bench:%s-%d".formatted(variant, round), parallelism);
        String catalog = context.server.lake().properties().entrySet().stream()
                .map(e -> "'%s' = '%s'".formatted(e.getKey(), e.getValue()))
                .collect(Collectors.joining(", "));
        // The JDBC catalog keys its rows by catalog name: the job must call it what Tarn calls it.
        env.executeSql("CREATE CATALOG lake WITH ('type' = 'iceberg', " + catalog + ")");
        env.executeSql(("CREATE TABLE clicks (%s) WITH ('connector' = 'kafka', 'topic' = '%s',"
                        + " 'properties.bootstrap.servers' = '%s', 'properties.group.id' = 'bench-%s-%d',"
                        + " 'scan.startup.mode' = 'earliest-offset', 'format' = 'json',"
                        + " 'json.timestamp-format.standard' = 'ISO-8601')")
                .formatted(Events.COLUMNS_DDL, TOPIC, context.server.bootstrapServers(), variant, round));
        env.executeSql("CREATE DATABASE IF NOT EXISTS lake.bench");
        env.executeSql("CREATE TABLE lake.%s (%s)".formatted(table, Events.COLUMNS_DDL));
        JobClient job = env.executeSql("INSERT INTO lake.%s SELECT %s FROM clicks".formatted(table, Events.COLUMNS))
                .getJobClient()
                .orElseThrow();
        BenchContext.awaitAtLeast(table + " rows", () -> context.committedRows(table), events, TIMEOUT, () -> {
            var status = job.getJobStatus().join();
            return status.isGloballyTerminalState() || status.name().equals("RESTARTING")
                    ? Optional.of("the plain Flink job is " + status)
                    : Optional.empty();
        });
        Run run = timer.stop(variant, round, context.tableFigures(table));
        job.cancel().get();
        context.server.lake().dropAndPurge(table);
        return run;
    }

    private Run rawKafka(int round) {
        Timer timer = new Timer();
        long records = 0;
        long bytes = 0;
        try (var consumer = clicksFromTheStart()) {
            while (records < events) {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    records++;
                    bytes += record.value().length;
                }
            }
        }
        if (records != events) {
            throw new IllegalStateException("raw consumer read %d records, expected %d".formatted(records, events));
        }
        return timer.stop("raw-kafka", round, Map.of("bytes", bytes));
    }

    /**
     * The events consumed, decoded by Tarn's JSON decoder and written by Iceberg's Parquet writer for Flink rows (the
     * writer Iceberg's Flink sink uses) in this one thread, without Flink's runtime or planner; the files are closed
     * and appended in one commit every 2 s, as a checkpoint would. No exactly-once, no fault tolerance: this is the
     * ceiling of any landing path that keeps this decoder and this writer at parallelism 1, not a way to land data.
     */
    private Run directWriter(int round) throws Exception {
        String name = "bench.direct_" + round;
        RowType topicRow =
                (RowType) LogicalTypeParser.parse("ROW<" + Events.COLUMNS_DDL + ">", IngestLake.class.getClassLoader());
        Catalog catalog = CatalogUtil.buildIcebergCatalog(
                LakeCatalog.NAME, context.server.lake().properties(), new org.apache.hadoop.conf.Configuration());
        Namespace namespace = Namespace.of("bench");
        if (!((SupportsNamespaces) catalog).namespaceExists(namespace)) {
            ((SupportsNamespaces) catalog).createNamespace(namespace);
        }
        Timer timer = new Timer();
        Table table = catalog.createTable(
                LakeCatalog.identifier(name), FlinkSchemaUtil.convert(FlinkSchemaUtil.toResolvedSchema(topicRow)));
        FlinkWriteConf conf = new FlinkWriteConf(table, Map.of(), new Configuration());
        RowDataTaskWriterFactory files = new RowDataTaskWriterFactory(
                table,
                FlinkSchemaUtil.convert(table.schema()),
                conf.targetDataFileSize(),
                conf.dataFileFormat(),
                SinkUtil.writeProperties(conf.dataFileFormat(), conf, table),
                null,
                false);
        files.initialize(0, 0);
        DeserializationSchema<RowData> decoder = TarnJsonFormatFactory.decoder(topicRow);
        decoder.open(null);
        long records = 0;
        try (var consumer = clicksFromTheStart()) {
            List<RowData> decoded = new ArrayList<>();
            ListCollector<RowData> rows = new ListCollector<>(decoded);
            TaskWriter<RowData> writer = files.create();
            long commitAt = System.nanoTime() + COMMIT_INTERVAL_NANOS;
            while (records < events) {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    decoder.deserialize(record.value(), rows);
                    records++;
                }
                for (RowData row : decoded) {
                    writer.write(row);
                }
                decoded.clear();
                if (records == events || System.nanoTime() >= commitAt) {
                    AppendFiles append = table.newAppend();
                    for (DataFile file : writer.dataFiles()) {
                        append.appendFile(file);
                    }
                    append.commit();
                    if (records < events) {
                        writer = files.create();
                        commitAt = System.nanoTime() + COMMIT_INTERVAL_NANOS;
                    }
                }
            }
        }
        if (context.committedRows(name) != events) {
            throw new IllegalStateException(
                    "direct writer committed %d rows, expected %d".formatted(context.committedRows(name), events));
        }
        Run run = timer.stop(DIRECT, round, context.tableFigures(name));
        context.server.lake().dropAndPurge(name);
        return run;
    }

    /** A consumer of every partition of the click topic, positioned at its first records. */
    private KafkaConsumer<byte[], byte[]> clicksFromTheStart() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, context.server.bootstrapServers());
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(64 * 1024 * 1024));
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(16 * 1024 * 1024));
        var consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            partitions.add(new TopicPartition(TOPIC, p));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /** Wall and CPU time since it was made. */
    private final class Timer {
        private final long start = System.nanoTime();
        private final double cpu = Machine.processCpuSeconds();

        Run stop(String variant, int round, Map<String, Object> extra) {
            return new Run(
                    NAME,
                    variant,
                    round,
                    events,
                    (System.nanoTime() - start) / 1e9,
                    Machine.processCpuSeconds() - cpu,
                    extra);
        }
    }
}
