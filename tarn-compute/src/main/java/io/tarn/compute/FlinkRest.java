package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.compute.quality.RuleVerdict;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The few calls of Flink's REST API that Tarn needs to watch and steer a job; the same for the embedded MiniCluster and
 * a Flink session cluster.
 */
final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The states of a job that has ended. */
    static final List<String> TERMINAL = List.of("FINISHED", "CANCELED", "FAILED");

    private final URI base;
    private final HttpClient http;
    /**
     * The names of the writer metrics of each job's sink vertices ({@code <job>/<vertex>}), which stay the same while
     * a job runs: looked up once, not at every look at the job.
     */
    private final Map<String, List<String>> writerMetrics = new ConcurrentHashMap<>();
    /** Per job and vertex, the names of its quality rules' counters, once seen. */
    private final Map<String, List<String>> ruleMetrics = new ConcurrentHashMap<>();

    FlinkRest(FlinkAccess access) {
        this.base = requireNonNull(access, "access is null").restAddress();
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        access.sslContext().ifPresent(builder::sslContext);
        this.http = builder.build();
    }

    /**
     * The jobs the cluster knows (running and recently ended), each with its {@code jid}, {@code name} and {@code state},
     * from the dispatcher (one call). Not {@code /overview}: that one also asks the resource manager, and answered 503
     * now and then while jobs were being cancelled. A dispatcher that is not ready yet (a cluster just started) answers
     * 503: asked again for up to 30 s.
     *
     * @throws TarnException {@link ErrorCode#COMPUTE_UNAVAILABLE} if it does not answer
     */
    List<JsonNode> jobs() {
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/jobs/overview"))
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        HttpResponse<String> response = exchange(request);
        while (response.statusCode() == 503 && System.nanoTime() < deadline) {
            sleep(200);
            response = exchange(request);
        }
        List<JsonNode> jobs = new ArrayList<>();
        parse(response, "/jobs/overview").path("jobs").forEach(jobs::add);
        return jobs;
    }

    /**
     * The cluster's overview: its Flink version, TaskManagers and task slots.
     *
     * @throws TarnException {@link ErrorCode#COMPUTE_UNAVAILABLE} if it does not answer
     */
    JsonNode overview() {
        return get("/overview")
                .orElseThrow(() -> new TarnException(
                        ErrorCode.COMPUTE_UNAVAILABLE,
                        "Flink answered HTTP 404 to /overview: not a Flink REST endpoint"));
    }

    /** A job's state as Flink reports it (one call); empty if Flink does not know the job. */
    Optional<String> state(String jobId) {
        return get("/jobs/" + jobId).map(job -> job.path("state").asText());
    }

    /**
     * The event-time watermark at a job's sinks: the lowest input watermark of the subtasks of its last vertices (those
     * no other vertex reads), in epoch milliseconds; empty if Flink does not know the job or no watermark has reached
     * them.
     */
    Optional<Long> sinkWatermark(String jobId) {
        Optional<JsonNode> job = get("/jobs/" + jobId);
        if (job.isEmpty()) {
            return Optional.empty();
        }
        Set<String> read = new HashSet<>();
        job.get().path("plan").path("nodes").forEach(node -> node.path("inputs")
                .forEach(input -> read.add(input.path("id").asText())));
        Optional<Long> lowest = Optional.empty();
        for (JsonNode vertex : job.get().path("vertices")) {
            String id = vertex.path("id").asText();
            if (read.contains(id)) {
                continue;
            }
            for (JsonNode watermark :
                    get("/jobs/" + jobId + "/vertices/" + id + "/watermarks").orElse(JSON.createArrayNode())) {
                if (!watermark.path("id").asText().endsWith("currentInputWatermark")) {
                    continue;
                }
                long value = watermark.path("value").asLong(Long.MIN_VALUE);
                if (value == Long.MIN_VALUE) {
                    return Optional.empty(); // a subtask without a watermark holds the job's back
                }
                lowest = Optional.of(lowest.map(l -> Math.min(l, value)).orElse(value));
            }
        }
        return lowest;
    }

    /** A job's state and counters as Flink reports them; empty if Flink does not know the job. */
    Optional<JobView> job(String jobId) {
        Optional<JsonNode> job = get("/jobs/" + jobId);
        if (job.isEmpty()) {
            return Optional.empty();
        }
        JsonNode root = job.get();
        Set<String> targets = new HashSet<>();
        root.path("plan").path("nodes").forEach(node -> {
            if (node.path("inputs").size() > 0) {
                targets.add(node.path("id").asText());
            }
        });
        long in = 0;
        long out = 0;
        Map<String, Long> rules = new TreeMap<>();
        for (JsonNode vertex : root.path("vertices")) {
            String id = vertex.path("id").asText();
            if (!targets.contains(id)) {
                // A source task counts the records it reads from outside as its input.
                in += vertex.path("metrics").path("read-records").asLong();
            }
            out += sentRecords(jobId, id);
            ruleCounts(jobId, id).forEach((name, count) -> rules.merge(name, count, Long::sum));
        }
        if (TERMINAL.contains(root.path("state").asText())) {
            writerMetrics.keySet().removeIf(key -> key.startsWith(jobId + "/"));
            ruleMetrics.keySet().removeIf(key -> key.startsWith(jobId + "/"));
        }
        long restarts = get("/jobs/" + jobId + "/metrics?get=numRestarts")
                .map(m -> m.size() > 0 ? m.get(0).path("value").asLong() : 0L)
                .orElse(0L);
        Optional<JsonNode> checkpoints = get("/jobs/" + jobId + "/checkpoints");
        Optional<Checkpoint> checkpoint = checkpoints.flatMap(FlinkRest::latestCompleted);
        JsonNode counts = checkpoints.map(c -> c.path("counts")).orElse(JSON.createObjectNode());
        JobControl.CheckpointCounts checkpointCounts = new JobControl.CheckpointCounts(
                counts.path("completed").asLong(),
                counts.path("failed").asLong(),
                checkpoints
                        .map(c -> c.path("latest")
                                .path("completed")
                                .path("end_to_end_duration")
                                .asLong(-1))
                        .orElse(-1L));
        return Optional.of(new JobView(
                root.path("state").asText(),
                in,
                out,
                restarts,
                checkpoint,
                lastFailure(jobId),
                rules,
                checkpointCounts));
    }

    /** A job's tasks and their connections with their current numbers; empty if Flink does not know the job. */
    Optional<JobGraph> graph(String jobId) {
        Optional<JsonNode> job = get("/jobs/" + jobId);
        if (job.isEmpty()) {
            return Optional.empty();
        }
        List<JobGraph.Edge> edges = new ArrayList<>();
        job.get().path("plan").path("nodes").forEach(node -> node.path("inputs")
                .forEach(input -> edges.add(new JobGraph.Edge(
                        input.path("id").asText(),
                        node.path("id").asText(),
                        input.path("ship_strategy").asText()))));
        List<JobGraph.Vertex> vertices = new ArrayList<>();
        for (JsonNode vertex : job.get().path("vertices")) {
            String id = vertex.path("id").asText();
            Map<String, JsonNode> rates = new HashMap<>();
            get("/jobs/" + jobId + "/vertices/" + id + "/subtasks/metrics?agg=sum,max&get="
                            + String.join(",", PER_SECOND))
                    .ifPresent(list -> list.forEach(m -> rates.put(m.path("id").asText(), m)));
            vertices.add(new JobGraph.Vertex(
                    id,
                    vertex.path("name").asText(),
                    vertex.path("parallelism").asInt(),
                    vertex.path("status").asText(),
                    vertex.path("metrics").path("read-records").asLong(),
                    vertex.path("metrics").path("write-records").asLong(),
                    rate(rates, "numRecordsInPerSecond", "sum"),
                    rate(rates, "numRecordsOutPerSecond", "sum"),
                    rate(rates, "backPressuredTimeMsPerSecond", "max") / 1000,
                    rate(rates, "busyTimeMsPerSecond", "max") / 1000));
        }
        return Optional.of(new JobGraph(vertices, edges));
    }

    /** Flink's per-second task metrics the graph shows (its meters average over the last minute). */
    private static final List<String> PER_SECOND = List.of(
            "numRecordsInPerSecond", "numRecordsOutPerSecond", "backPressuredTimeMsPerSecond", "busyTimeMsPerSecond");

    private static double rate(Map<String, JsonNode> rates, String metric, String aggregate) {
        JsonNode value = rates.getOrDefault(metric, JSON.createObjectNode()).path(aggregate);
        // Flink reports NaN (as text) for a busy time it cannot measure
        return value.isNumber() ? value.asDouble() : 0;
    }

    /**
     * Records that reached the sink writers of a vertex (Iceberg, Kafka). Their input count is used because the Iceberg
     * writer does not maintain the standard numRecordsSend metric.
     */
    private long sentRecords(String jobId, String vertexId) {
        String path = "/jobs/" + jobId + "/vertices/" + vertexId + "/subtasks/metrics";
        String key = jobId + "/" + vertexId;
        List<String> names = writerMetrics.get(key);
        if (names == null) {
            List<String> found = new ArrayList<>();
            get(path)
                    .ifPresent(list -> list.forEach(m -> {
                        String name = m.path("id").asText();
                        // a pipeline's dead letters are counted in its dead-letter table, not as its output (the
                        // metric names the operator "lake.dead_letters.<pipeline>: Writer" with '_' for '.' and ':')
                        if (name.endsWith("Writer.numRecordsIn")
                                && !name.contains(PipelineSqlRules.LAKE_CATALOG + "_" + DeadLetters.NAMESPACE + "_")) {
                            found.add(name);
                        }
                    }));
            if (!found.isEmpty()) {
                writerMetrics.put(key, found);
            }
            names = found;
        }
        if (names.isEmpty()) {
            return 0;
        }
        String query = names.stream()
                .map(n -> URLEncoder.encode(n, StandardCharsets.UTF_8))
                .collect(Collectors.joining(","));
        long sent = 0;
        for (JsonNode metric : get(path + "?agg=sum&get=" + query).orElse(JSON.createArrayNode())) {
            sent += metric.path("sum").asLong();
        }
        return sent;
    }

    /**
     * What the quality rules evaluated in a vertex counted ({@link RuleVerdict}), summed over its subtasks: {@code
     * <rule>.passed} and {@code <rule>.failed}.
     */
    private Map<String, Long> ruleCounts(String jobId, String vertexId) {
        String path = "/jobs/" + jobId + "/vertices/" + vertexId + "/subtasks/metrics";
        String key = jobId + "/" + vertexId;
        List<String> names = ruleMetrics.get(key);
        if (names == null) {
            List<String> found = new ArrayList<>();
            get(path)
                    .ifPresent(list -> list.forEach(m -> {
                        String name = m.path("id").asText();
                        if (name.contains(RuleVerdict.METRIC_PREFIX)) {
                            found.add(name);
                        }
                    }));
            if (!found.isEmpty()) {
                ruleMetrics.put(key, found);
            }
            names = found;
        }
        if (names.isEmpty()) {
            return Map.of();
        }
        String query = names.stream()
                .map(n -> URLEncoder.encode(n, StandardCharsets.UTF_8))
                .collect(Collectors.joining(","));
        Map<String, Long> counts = new TreeMap<>();
        for (JsonNode metric : get(path + "?agg=sum&get=" + query).orElse(JSON.createArrayNode())) {
            String id = metric.path("id").asText();
            String counter = id.substring(id.indexOf(RuleVerdict.METRIC_PREFIX) + RuleVerdict.METRIC_PREFIX.length());
            int cut = counter.lastIndexOf('_');
            if (cut > 0) {
                counts.merge(
                        counter.substring(0, cut) + "." + counter.substring(cut + 1),
                        metric.path("sum").asLong(),
                        Long::sum);
            }
        }
        return counts;
    }

    private static Optional<Checkpoint> latestCompleted(JsonNode checkpoints) {
        JsonNode completed = checkpoints.path("latest").path("completed");
        if (completed.isMissingNode() || completed.isNull()) {
            return Optional.empty();
        }
        return Optional.of(new Checkpoint(
                completed.path("id").asLong(),
                Instant.ofEpochMilli(completed.path("latest_ack_timestamp").asLong()),
                completed.path("external_path").asText()));
    }

    /** The root cause of the job's most recent failure, as "ExceptionClass: message". */
    private Optional<String> lastFailure(String jobId) {
        return get("/jobs/" + jobId + "/exceptions?maxExceptions=1").flatMap(root -> {
            JsonNode entries = root.path("exceptionHistory").path("entries");
            if (entries.size() == 0) {
                return Optional.empty();
            }
            return Optional.of(rootCause(entries.get(0)
                    .path("stacktrace")
                    .asText(entries.get(0).path("exceptionName").asText())));
        });
    }

    /** The last "Caused by:" of a Java stack trace text, or its first line. */
    static String rootCause(String stacktrace) {
        String cause = stacktrace.lines().findFirst().orElse(stacktrace);
        for (String line : stacktrace.lines().toList()) {
            if (line.startsWith("Caused by: ")) {
                cause = line.substring("Caused by: ".length());
            }
        }
        return cause.strip();
    }

    /**
     * Stops a job with a savepoint and returns the savepoint's location.
     *
     * @throws TarnException {@link ErrorCode#COMPUTE_UNAVAILABLE} if Flink could not take the savepoint
     */
    /**
     * Waits until every task of a job runs (a job is RUNNING once scheduled, before its tasks are deployed, and a
     * checkpoint or savepoint triggered meanwhile fails), or the time is up, or the job is no longer running.
     */
    void awaitTasksRunning(String jobId, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<JsonNode> job = get("/jobs/" + jobId);
            if (job.isEmpty() || !job.get().path("state").asText().equals("RUNNING")) {
                return;
            }
            boolean all = true;
            for (JsonNode vertex : job.get().path("vertices")) {
                all &= vertex.path("status").asText().equals("RUNNING")
                        || vertex.path("status").asText().equals("FINISHED");
            }
            if (all) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout) {
        String body = JSON.createObjectNode()
                .put("targetDirectory", targetDirectory)
                .put("drain", false)
                .toString();
        JsonNode trigger = send(HttpRequest.newBuilder(base.resolve("/jobs/" + jobId + "/stop"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
        String requestId = trigger.path("request-id").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode status = get("/jobs/" + jobId + "/savepoints/" + requestId)
                    .orElseThrow(() -> new TarnException(
                            ErrorCode.COMPUTE_UNAVAILABLE, "job " + jobId + " vanished while stopping"));
            if ("COMPLETED".equals(status.path("status").path("id").asText())) {
                JsonNode operation = status.path("operation");
                if (operation.has("location")) {
                    return operation.path("location").asText();
                }
                throw new TarnException(
                        ErrorCode.COMPUTE_UNAVAILABLE,
                        "savepoint of job %s failed: %s"
                                .formatted(
                                        jobId,
                                        rootCause(operation
                                                .path("failure-cause")
                                                .path("stack-trace")
                                                .asText("unknown cause"))));
            }
            sleep(200);
        }
        throw new TarnException(
                ErrorCode.COMPUTE_UNAVAILABLE, "savepoint of job %s did not complete in %s".formatted(jobId, timeout));
    }

    /** Cancels a job; a job Flink no longer knows is already gone. */
    void cancel(String jobId) {
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(30))
                .build();
        HttpResponse<String> response = exchange(request);
        if (response.statusCode() >= 400 && response.statusCode() != 404) {
            throw new TarnException(
                    ErrorCode.COMPUTE_UNAVAILABLE,
                    "Flink refused to cancel job %s (HTTP %d)".formatted(jobId, response.statusCode()));
        }
    }

    private Optional<JsonNode> get(String path) {
        HttpResponse<String> response = exchange(HttpRequest.newBuilder(base.resolve(path))
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build());
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        return Optional.of(parse(response, path));
    }

    private JsonNode send(HttpRequest.Builder request) {
        HttpRequest built = request.timeout(Duration.ofSeconds(30)).build();
        return parse(exchange(built), built.uri().getPath());
    }

    private static JsonNode parse(HttpResponse<String> response, String path) {
        if (response.statusCode() >= 400) {
            throw new TarnException(
                    ErrorCode.COMPUTE_UNAVAILABLE,
                    "Flink answered HTTP %d to %s".formatted(response.statusCode(), path));
        }
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new TarnException(ErrorCode.COMPUTE_UNAVAILABLE, "Flink answered unreadable JSON to " + path, e);
        }
    }

    private HttpResponse<String> exchange(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new TarnException(
                    ErrorCode.COMPUTE_UNAVAILABLE, "Flink REST API did not answer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TarnException(ErrorCode.COMPUTE_UNAVAILABLE, "interrupted while calling Flink", e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TarnException(ErrorCode.COMPUTE_UNAVAILABLE, "interrupted while waiting for Flink", e);
        }
    }

    /** What Flink says about a job. */
    record JobView(
            String state,
            long recordsIn,
            long recordsOut,
            long restarts,
            Optional<Checkpoint> lastCheckpoint,
            Optional<String> lastFailure,
            Map<String, Long> ruleCounts,
            JobControl.CheckpointCounts checkpoints) {}

    /** A completed checkpoint and where it is stored. */
    record Checkpoint(long id, Instant completedAt, String path) {}
}
