package io.tarn.server.lineage;

import static java.util.Objects.requireNonNull;

import io.openlineage.client.OpenLineage;
import io.openlineage.client.OpenLineageClient;
import io.openlineage.client.transports.ApiKeyTokenProvider;
import io.openlineage.client.transports.CompositeConfig;
import io.openlineage.client.transports.CompositeTransport;
import io.openlineage.client.transports.FileConfig;
import io.openlineage.client.transports.HttpConfig;
import io.openlineage.client.transports.TransportConfig;
import io.tarn.compute.PlanLineage;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.TopicSpec;
import io.tarn.lake.LakeCatalog;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.pipeline.PipelineService;
import java.net.URI;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenLineage run events of pipelines, sent to an HTTP endpoint ({@code lineage.openlineage-url}) and/or appended to
 * a file ({@code lineage.openlineage-file}) with OpenLineage's own Java client: a run is one Flink job of a pipeline
 * (its run id is the job id), START when it is submitted, COMPLETE when it stops with a savepoint or finishes, FAIL
 * when it fails (with the error), ABORT when its pipeline is deleted while it runs. Each event names the job (the
 * pipeline, its SQL) and its datasets as OpenLineage names them — a topic {@code kafka://<broker>} / topic, a lake
 * table by its location ({@code file} / path, {@code s3://bucket} / key) — with their schemas, and the outputs' column
 * lineage from the pipeline's compiled plan. Events are sent in order on a thread of their own; one that cannot be
 * sent is logged, never holding up a pipeline.
 */
public final class OpenLineageEvents implements PipelineService.RunListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenLineageEvents.class);
    private static final URI PRODUCER = URI.create("https://github.com/tarn-lakehouse/tarn");

    private final OpenLineageClient client;
    private final String namespace;
    private final String kafkaNamespace;
    private final MetadataStore metadata;
    private final LakeCatalog lake;
    private final OpenLineage openLineage = new OpenLineage(PRODUCER);
    private final Map<String, PlanLineage> running = new ConcurrentHashMap<>();
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "tarn-openlineage");
        thread.setDaemon(true);
        return thread;
    });

    private OpenLineageEvents(
            OpenLineageClient client,
            String namespace,
            String bootstrapServers,
            MetadataStore metadata,
            LakeCatalog lake) {
        this.client = client;
        this.namespace = namespace;
        this.kafkaNamespace = "kafka://" + bootstrapServers.split(",")[0].strip();
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.lake = requireNonNull(lake, "lake is null");
    }

    /** The events configured, if any are. */
    public static Optional<OpenLineageEvents> of(
            TarnConfig config, String bootstrapServers, MetadataStore metadata, LakeCatalog lake) {
        List<TransportConfig> transports = new ArrayList<>();
        String url = config.get(ConfigKeys.LINEAGE_OPENLINEAGE_URL);
        if (!url.isBlank()) {
            HttpConfig http = new HttpConfig();
            http.setUrl(URI.create(url));
            http.setTimeoutInMillis(5_000);
            String key = config.get(ConfigKeys.LINEAGE_OPENLINEAGE_API_KEY);
            if (!key.isBlank()) {
                ApiKeyTokenProvider token = new ApiKeyTokenProvider();
                token.setApiKey(key);
                http.setAuth(token);
            }
            transports.add(http);
        }
        String file = config.get(ConfigKeys.LINEAGE_OPENLINEAGE_FILE);
        if (!file.isBlank()) {
            transports.add(new FileConfig(file));
        }
        return transports.isEmpty()
                ? Optional.empty()
                : Optional.of(new OpenLineageEvents(
                        new OpenLineageClient(new CompositeTransport(
                                CompositeConfig.createFromTransportConfigs(transports, true, false))),
                        config.get(ConfigKeys.LINEAGE_OPENLINEAGE_NAMESPACE),
                        bootstrapServers,
                        metadata,
                        lake));
    }

    @Override
    public void started(String pipeline, String jobId, String sql, Optional<PlanLineage> lineage) {
        lineage.ifPresent(l -> running.put(jobId, l));
        send(OpenLineage.RunEvent.EventType.START, pipeline, jobId, sql, lineage, Optional.empty());
    }

    @Override
    public void ended(String pipeline, String jobId, String sql, Outcome outcome, Optional<String> error) {
        Optional<PlanLineage> lineage = Optional.ofNullable(running.remove(jobId));
        OpenLineage.RunEvent.EventType type =
                switch (outcome) {
                    case COMPLETE -> OpenLineage.RunEvent.EventType.COMPLETE;
                    case FAIL -> OpenLineage.RunEvent.EventType.FAIL;
                    case ABORT -> OpenLineage.RunEvent.EventType.ABORT;
                };
        send(type, pipeline, jobId, sql, lineage, error);
    }

    private void send(
            OpenLineage.RunEvent.EventType type,
            String pipeline,
            String jobId,
            String sql,
            Optional<PlanLineage> lineage,
            Optional<String> error) {
        ZonedDateTime at = ZonedDateTime.now(ZoneOffset.UTC);
        sender.execute(() -> {
            OpenLineage.RunEvent event;
            try {
                event = event(type, at, pipeline, jobId, sql, lineage, error);
            } catch (RuntimeException e) {
                LOG.warn(
                        "The OpenLineage {} event of pipeline {} could not be made: {}",
                        type,
                        pipeline,
                        TarnException.rootMessage(e));
                return;
            }
            try {
                client.emit(event); // to every transport, each failing on its own
            } catch (RuntimeException e) {
                LOG.warn(
                        "The OpenLineage {} event of pipeline {} could not be sent: {}",
                        type,
                        pipeline,
                        TarnException.rootMessage(e));
            }
        });
    }

    private OpenLineage.RunEvent event(
            OpenLineage.RunEvent.EventType type,
            ZonedDateTime at,
            String pipeline,
            String jobId,
            String sql,
            Optional<PlanLineage> lineage,
            Optional<String> error) {
        OpenLineage.RunFacetsBuilder runFacets = openLineage
                .newRunFacetsBuilder()
                .processing_engine(
                        openLineage.newProcessingEngineRunFacet(EnvironmentInformation.getVersion(), "flink", null));
        error.ifPresent(message -> runFacets.errorMessage(openLineage.newErrorMessageRunFacet(message, "java", null)));
        OpenLineage.Job job = openLineage
                .newJobBuilder()
                .namespace(namespace)
                .name(pipeline)
                .facets(openLineage
                        .newJobFacetsBuilder()
                        .jobType(openLineage.newJobTypeJobFacet("STREAMING", "FLINK", "JOB", null))
                        .sql(openLineage.newSQLJobFacet(sql, "flink"))
                        .build())
                .build();
        List<OpenLineage.InputDataset> inputs = new ArrayList<>();
        List<OpenLineage.OutputDataset> outputs = new ArrayList<>();
        lineage.ifPresent(l -> {
            for (String table : l.reads()) {
                Dataset dataset = dataset(table);
                inputs.add(openLineage
                        .newInputDatasetBuilder()
                        .namespace(dataset.namespace())
                        .name(dataset.name())
                        .facets(openLineage
                                .newDatasetFacetsBuilder()
                                .schema(dataset.schema())
                                .build())
                        .build());
            }
            for (String table : l.writes()) {
                Dataset dataset = dataset(table);
                OpenLineage.ColumnLineageDatasetFacetFieldsBuilder fields =
                        openLineage.newColumnLineageDatasetFacetFieldsBuilder();
                l.columns().forEach((column, from) -> {
                    int dot = column.lastIndexOf('.');
                    if (!column.substring(0, dot).equals(table)) {
                        return;
                    }
                    List<OpenLineage.InputField> inputFields = new ArrayList<>();
                    for (String source : from) {
                        int sourceDot = source.lastIndexOf('.');
                        Dataset input = dataset(source.substring(0, sourceDot));
                        inputFields.add(openLineage.newInputField(
                                input.namespace(), input.name(), source.substring(sourceDot + 1), null));
                    }
                    fields.put(
                            column.substring(dot + 1),
                            openLineage.newColumnLineageDatasetFacetFieldsAdditional(inputFields, null, null));
                });
                outputs.add(openLineage
                        .newOutputDatasetBuilder()
                        .namespace(dataset.namespace())
                        .name(dataset.name())
                        .facets(openLineage
                                .newDatasetFacetsBuilder()
                                .schema(dataset.schema())
                                .columnLineage(openLineage.newColumnLineageDatasetFacet(fields.build(), null))
                                .build())
                        .build());
            }
        });
        return openLineage
                .newRunEventBuilder()
                .eventType(type)
                .eventTime(at)
                .run(openLineage.newRun(runId(jobId), runFacets.build()))
                .job(job)
                .inputs(inputs)
                .outputs(outputs)
                .build();
    }

    private record Dataset(String namespace, String name, OpenLineage.SchemaDatasetFacet schema) {}

    /** A table of SQL ({@code stream.t}, {@code lake.ns.t}) as OpenLineage names a Kafka topic or a table's files. */
    private Dataset dataset(String table) {
        List<OpenLineage.SchemaDatasetFacetFields> fields = new ArrayList<>();
        if (table.startsWith("lake.")) {
            Table loaded = lake.load(table.substring("lake.".length()));
            for (Types.NestedField field : loaded.schema().columns()) {
                fields.add(openLineage.newSchemaDatasetFacetFields(
                        field.name(), field.type().toString(), null, null, null));
            }
            URI location =
                    URI.create(loaded.location().contains("://") ? loaded.location() : "file://" + loaded.location());
            boolean local = location.getScheme().equals("file");
            return new Dataset(
                    local ? "file" : location.getScheme() + "://" + location.getAuthority(),
                    local ? location.getPath() : location.getPath().substring(1),
                    openLineage.newSchemaDatasetFacet(fields));
        }
        String topic = table.substring(table.indexOf('.') + 1);
        metadata.topic(topic)
                .map(TopicSpec::columns)
                .orElse(List.of())
                .forEach(column -> fields.add(openLineage.newSchemaDatasetFacetFields(
                        column.name(), column.type().sql(), null, null, null)));
        return new Dataset(kafkaNamespace, topic, openLineage.newSchemaDatasetFacet(fields));
    }

    /** A Flink job id (32 hex digits) as the run's UUID, so that a run can be found by its job. */
    public static UUID runId(String jobId) {
        byte[] bytes = HexFormat.of().parseHex(jobId);
        long high = 0;
        long low = 0;
        for (int i = 0; i < 8; i++) {
            high = (high << 8) | (bytes[i] & 0xff);
            low = (low << 8) | (bytes[i + 8] & 0xff);
        }
        return new UUID(high, low);
    }

    @Override
    public void close() {
        sender.shutdown();
        try {
            sender.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            client.close();
        } catch (Exception e) {
            LOG.debug("The OpenLineage client did not close: {}", e.toString());
        }
    }
}
