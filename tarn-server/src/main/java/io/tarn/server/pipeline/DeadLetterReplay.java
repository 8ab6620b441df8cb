package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.DeadLetters;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.query.QueryResult;
import io.tarn.lake.LakeQuery;
import io.tarn.log.KafkaLog;
import io.tarn.server.metadata.DeadLetterPosition;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.ReplayRecord;
import io.tarn.server.query.QueryService;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays a pipeline's dead letters after a fix: sends each again, as it was (key, value, time), into the pipeline's
 * replay topic of its topic ({@link DeadLetters#replayTopic}), which the pipeline reads with the topic. A record that is
 * still bad is dead-lettered again, at its place in the replay topic, and can be replayed again.
 *
 * <p>Exactly once: a replay is recorded in the metadata store (its dead letters, and where each replay topic ended)
 * before its records are appended in one Kafka transaction, and marked finished after the commit; a dead letter is
 * replayed by one replay only. A replay cut off between the two (a crash, Kafka unavailable) is finished before the
 * pipeline's next replay and when Tarn starts: the transaction's id is fenced, which aborts it unless its commit
 * reached Kafka, and the replay topics are searched from where they ended for a record of the replay; if there is none,
 * its records are appended again.
 */
public final class DeadLetterReplay {
    /** The most dead letters one replay sends. */
    public static final int MAX_RECORDS = 1_000;
    /** A replay of all dead letters stops adding more once their values reach this size. */
    static final long MAX_BYTES = 16L << 20;
    /** The header of a replayed record that names its replay ({@code <pipeline>/<id>}). */
    public static final String REPLAY_HEADER = "tarn-replay";
    /** The header of a replayed record that names the dead letter it replays ({@code topic/partition/offset}). */
    public static final String REPLAY_OF_HEADER = "tarn-replay-of";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterReplay.class);
    private static final int PAGE = 1_000;

    private final PipelineService pipelines;
    private final QueryService queries;
    private final MetadataStore metadata;
    private final KafkaLog log;
    private final int maxRecordBytes;

    /** @param maxRecordBytes the largest value a corrected dead letter may have (log.max-record-bytes) */
    public DeadLetterReplay(
            PipelineService pipelines, QueryService queries, MetadataStore metadata, KafkaLog log, int maxRecordBytes) {
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
        this.queries = requireNonNull(queries, "queries is null");
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.log = requireNonNull(log, "log is null");
        this.maxRecordBytes = maxRecordBytes;
    }

    /**
     * What a replay did.
     *
     * @param replayed the dead letters it sent again
     * @param remaining the pipeline's dead letters not replayed yet
     */
    public record Result(long replayed, long remaining) {}

    /**
     * A dead letter to replay, with the value to send in place of its own if the user corrected it.
     *
     * @param value a corrected value, or empty to send the dead letter as it was
     */
    public record Choice(DeadLetterPosition position, Optional<byte[]> value) {}

    /**
     * Replays the given dead letters of a pipeline, or (none given) its oldest ones not replayed yet, up to {@value
     * #MAX_RECORDS} records or {@value #MAX_BYTES} bytes of values.
     *
     * @throws TarnException {@link ErrorCode#PIPELINE_NOT_FOUND} for an unknown pipeline; {@link
     *     ErrorCode#INVALID_STATE} for a pipeline that does not dead-letter, or a dead letter replayed before; {@link
     *     ErrorCode#INVALID_REQUEST} for more than {@value #MAX_RECORDS} dead letters, one the pipeline does not have,
     *     named twice, or a corrected value over log.max-record-bytes; {@link ErrorCode#LOG_UNAVAILABLE} if Kafka did
     *     not commit the replay (it is finished later)
     */
    public synchronized Result replay(String pipeline, Optional<List<Choice>> chosen) {
        PipelineSpec.OnError onError = pipelines.onError(pipeline);
        if (onError != PipelineSpec.OnError.DEAD_LETTER) {
            throw new TarnException(
                    ErrorCode.INVALID_STATE,
                    "pipeline '%s' does not dead-letter bad records (its onError is fail)".formatted(pipeline));
        }
        Map<DeadLetterPosition, byte[]> corrections = new HashMap<>();
        Set<DeadLetterPosition> named = new TreeSet<>();
        chosen.ifPresent(choices -> {
            if (choices.isEmpty() || choices.size() > MAX_RECORDS) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "name 1 to %d dead letters to replay, or replay all".formatted(MAX_RECORDS));
            }
            for (Choice choice : choices) {
                if (!named.add(choice.position())) {
                    throw new TarnException(
                            ErrorCode.INVALID_REQUEST, "dead letter %s is named twice".formatted(choice.position()));
                }
                choice.value().ifPresent(value -> {
                    if (value.length > maxRecordBytes) {
                        throw new TarnException(
                                ErrorCode.INVALID_REQUEST,
                                "the corrected value of dead letter %s has %d bytes; log.max-record-bytes is %d"
                                        .formatted(choice.position(), value.length, maxRecordBytes));
                    }
                    corrections.put(choice.position(), value);
                });
            }
        });
        for (ReplayRecord unfinished : metadata.unfinishedReplays()) {
            if (unfinished.pipeline().equals(pipeline)) {
                finish(unfinished);
            }
        }
        long total = pipelines.deadLetterCount(pipeline);
        List<DeadLetterPosition> positions;
        if (chosen.isPresent()) {
            positions = List.copyOf(named);
        } else {
            positions = notReplayed(pipeline, total);
        }
        if (positions.isEmpty()) {
            return new Result(0, Math.max(0, total - metadata.replayedCount(pipeline)));
        }
        Map<DeadLetterPosition, Row> rows = rows(pipeline, positions);
        if (rows.size() < positions.size()) {
            DeadLetterPosition missing = positions.stream()
                    .filter(p -> !rows.containsKey(p))
                    .findFirst()
                    .orElseThrow();
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "pipeline '%s' has no dead letter %s".formatted(pipeline, missing));
        }
        Map<String, Map<Integer, Long>> ends = new TreeMap<>();
        for (DeadLetterPosition position : positions) {
            String topic = replayTopic(pipeline, position.topic());
            if (!ends.containsKey(topic)) {
                createIfAbsent(topic);
                ends.put(topic, log.committedEnds(topic));
            }
        }
        ReplayRecord replay = metadata.beginReplay(pipeline, positions, corrections, ends);
        send(replay, rows);
        metadata.finishReplay(pipeline, replay.id());
        LOG.info("Replayed {} dead letters of pipeline {} (replay {})", positions.size(), pipeline, replay.id());
        return new Result(positions.size(), Math.max(0, total - metadata.replayedCount(pipeline)));
    }

    /** Finishes every replay that a crash or an unavailable Kafka cut off; one that cannot be finished now is logged. */
    public synchronized void finishAll() {
        for (ReplayRecord unfinished : metadata.unfinishedReplays()) {
            try {
                finish(unfinished);
            } catch (TarnException e) {
                LOG.warn(
                        "Replay {} of the dead letters of pipeline {} is not finished yet (its next replay finishes"
                                + " it): {}",
                        unfinished.id(),
                        unfinished.pipeline(),
                        e.getMessage());
            }
        }
    }

    /** Which of a pipeline's dead letters a listed page holds were replayed. */
    public Set<DeadLetterPosition> replayedAmong(String pipeline, List<DeadLetterPosition> positions) {
        return metadata.replayedAmong(pipeline, positions);
    }

    private void finish(ReplayRecord replay) {
        log.fence(transactionalId(replay.pipeline()));
        byte[] id = replayId(replay).getBytes(StandardCharsets.UTF_8);
        for (Map.Entry<String, Map<Integer, Long>> topic : replay.ends().entrySet()) {
            createIfAbsent(topic.getKey());
            if (log.containsHeader(topic.getKey(), topic.getValue(), REPLAY_HEADER, id)) {
                metadata.finishReplay(replay.pipeline(), replay.id());
                LOG.info("Replay {} of pipeline {} had been committed", replay.id(), replay.pipeline());
                return;
            }
        }
        // never committed: send what is still in the dead-letter table again (all of it, unless it was rolled back)
        send(replay, rows(replay.pipeline(), replay.positions()));
        metadata.finishReplay(replay.pipeline(), replay.id());
        LOG.info("Replay {} of pipeline {} was sent again after it was cut off", replay.id(), replay.pipeline());
    }

    private void send(ReplayRecord replay, Map<DeadLetterPosition, Row> rows) {
        byte[] id = replayId(replay).getBytes(StandardCharsets.UTF_8);
        List<KafkaLog.Outgoing> records = new ArrayList<>();
        for (DeadLetterPosition position : replay.positions()) {
            Row row = rows.get(position);
            if (row == null) {
                continue;
            }
            Map<String, byte[]> headers = new LinkedHashMap<>();
            headers.put(REPLAY_HEADER, id);
            headers.put(REPLAY_OF_HEADER, position.toString().getBytes(StandardCharsets.UTF_8));
            records.add(new KafkaLog.Outgoing(
                    replayTopic(replay.pipeline(), position.topic()),
                    row.key().map(k -> k.getBytes(StandardCharsets.UTF_8)).orElse(null),
                    replay.corrections().getOrDefault(position, row.value()),
                    row.timestamp(),
                    headers));
        }
        log.appendInTransaction(transactionalId(replay.pipeline()), records);
    }

    /** The dead letter's topic if it is a replay topic already, else the pipeline's replay topic of it. */
    private static String replayTopic(String pipeline, String topic) {
        return topic.startsWith(DeadLetters.replayTopicPrefix(pipeline))
                ? topic
                : DeadLetters.replayTopic(pipeline, topic);
    }

    private static String transactionalId(String pipeline) {
        return "tarn-replay-" + pipeline;
    }

    private static String replayId(ReplayRecord replay) {
        return replay.pipeline() + "/" + replay.id();
    }

    private void createIfAbsent(String topic) {
        try {
            // kept until the pipeline is deleted: a stopped pipeline reads its replays when it starts again
            log.createTopic(topic, 1, Map.of("retention.ms", "-1"));
        } catch (TarnException e) {
            if (e.code() != ErrorCode.TOPIC_ALREADY_EXISTS) {
                throw e;
            }
        }
    }

    /** A dead letter as it was read: its key (as text), value and time. */
    private record Row(Optional<String> key, byte[] value, long timestamp) {}

    /** The oldest dead letters not replayed yet, up to the limits of one replay. */
    private List<DeadLetterPosition> notReplayed(String pipeline, long total) {
        List<DeadLetterPosition> chosen = new ArrayList<>();
        long bytes = 0;
        long offset = 0;
        while (offset < total && chosen.size() < MAX_RECORDS && bytes < MAX_BYTES) {
            QueryResult page = queries.query(
                    """
                    SELECT topic, kafka_partition, kafka_offset, octet_length(raw) FROM %s
                    ORDER BY dead_lettered_at, topic, kafka_partition, kafka_offset LIMIT %d OFFSET %d"""
                            .formatted(table(pipeline), PAGE, offset),
                    LakeQuery.ENGINE);
            if (page.rows().isEmpty()) {
                break;
            }
            offset += page.rows().size();
            Map<DeadLetterPosition, Long> sizes = new LinkedHashMap<>();
            for (List<Object> row : page.rows()) {
                sizes.put(
                        new DeadLetterPosition(
                                String.valueOf(row.get(0)),
                                ((Number) row.get(1)).intValue(),
                                ((Number) row.get(2)).longValue()),
                        ((Number) row.get(3)).longValue());
            }
            Set<DeadLetterPosition> replayed = metadata.replayedAmong(pipeline, sizes.keySet());
            for (Map.Entry<DeadLetterPosition, Long> letter : sizes.entrySet()) {
                if (!replayed.contains(letter.getKey())
                        && chosen.size() < MAX_RECORDS
                        && (chosen.isEmpty() || bytes + letter.getValue() <= MAX_BYTES)) {
                    chosen.add(letter.getKey());
                    bytes += letter.getValue();
                }
            }
        }
        return chosen;
    }

    /**
     * The dead letters at these positions, as many as the table has. Only numbers go into the SQL; the topics are
     * compared here.
     */
    private Map<DeadLetterPosition, Row> rows(String pipeline, List<DeadLetterPosition> positions) {
        Map<DeadLetterPosition, Row> found = new HashMap<>();
        List<DeadLetterPosition> remaining = new ArrayList<>(positions);
        while (!remaining.isEmpty()) {
            String offsets = remaining.stream()
                    .map(p -> Long.toString(p.offset()))
                    .distinct()
                    .collect(Collectors.joining(", "));
            QueryResult result = queries.query(
                    """
                    SELECT topic, kafka_partition, kafka_offset, epoch_ms(kafka_timestamp), kafka_key, to_base64(raw)
                    FROM %s WHERE kafka_offset IN (%s)
                    ORDER BY topic, kafka_partition, kafka_offset"""
                            .formatted(table(pipeline), offsets),
                    LakeQuery.ENGINE);
            int before = found.size();
            for (List<Object> row : result.rows()) {
                DeadLetterPosition position = new DeadLetterPosition(
                        String.valueOf(row.get(0)),
                        ((Number) row.get(1)).intValue(),
                        ((Number) row.get(2)).longValue());
                if (remaining.contains(position)) {
                    found.put(
                            position,
                            new Row(
                                    Optional.ofNullable(row.get(4)).map(String::valueOf),
                                    Base64.getDecoder().decode(String.valueOf(row.get(5))),
                                    row.get(3) == null
                                            ? System.currentTimeMillis()
                                            : ((Number) row.get(3)).longValue()));
                }
            }
            remaining.removeAll(found.keySet());
            if (!result.truncated()) {
                break;
            }
            if (found.size() == before) {
                throw new TarnException(
                        ErrorCode.INVALID_STATE,
                        "dead letters of pipeline '%s' are larger than one query answer may be (query.max-bytes)"
                                .formatted(pipeline));
            }
        }
        return found;
    }

    /** The pipeline's dead-letter table in lake SQL (a pipeline's name is lower-case letters, digits, '_' and '-'). */
    private static String table(String pipeline) {
        return "lake.%s.\"%s\"".formatted(DeadLetters.NAMESPACE, pipeline.replace("\"", "\"\""));
    }
}
