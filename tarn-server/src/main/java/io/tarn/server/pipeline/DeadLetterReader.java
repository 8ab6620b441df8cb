package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.DeadLetters;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryResult;
import io.tarn.lake.LakeQuery;
import io.tarn.server.metadata.DeadLetterPosition;
import io.tarn.server.query.QueryService;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a pipeline's dead letters from its dead-letter table ({@link DeadLetters}) with lake SQL, oldest first (by
 * the time they were dead-lettered, then by topic and position), a page at a time.
 */
public final class DeadLetterReader {
    /** The most dead letters one page holds. */
    public static final int MAX_PAGE = 1_000;

    private final PipelineService pipelines;
    private final QueryService queries;
    private final DeadLetterReplay replays;

    public DeadLetterReader(PipelineService pipelines, QueryService queries, DeadLetterReplay replays) {
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
        this.queries = requireNonNull(queries, "queries is null");
        this.replays = requireNonNull(replays, "replays is null");
    }

    /**
     * One dead letter.
     *
     * @param key the record's key, as text
     * @param value the record's value as text, if it is UTF-8 (empty for other bytes and for no value)
     * @param valueBase64 the record's value, base64
     * @param replayed whether it was replayed ({@link DeadLetterReplay})
     */
    public record DeadLetter(
            String topic,
            int partition,
            long offset,
            Optional<String> timestamp,
            Optional<String> key,
            String errorClass,
            String errorMessage,
            Optional<String> value,
            String valueBase64,
            String deadLetteredAt,
            boolean replayed) {
        public DeadLetterPosition position() {
            return new DeadLetterPosition(topic, partition, offset);
        }
    }

    /** A page of dead letters and how many the pipeline has in all. */
    public record Page(List<DeadLetter> deadLetters, long total) {}

    /**
     * @param limit 1 to {@link #MAX_PAGE}
     * @param offset how many to skip
     * @throws TarnException {@link ErrorCode#PIPELINE_NOT_FOUND} for an unknown pipeline, {@link
     *     ErrorCode#INVALID_REQUEST} for a limit or offset out of range
     */
    public Page read(String pipeline, long limit, long offset) {
        long total = pipelines.deadLetterCount(pipeline);
        if (limit < 1 || limit > MAX_PAGE || offset < 0) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "limit must be 1 to %d and offset 0 or more".formatted(MAX_PAGE));
        }
        if (total == 0) {
            return new Page(List.of(), 0);
        }
        // the name is a pipeline's (lower-case letters, digits, '_' and '-'), quoted as DuckDB quotes identifiers
        String sql =
                """
                SELECT topic, kafka_partition, kafka_offset, CAST(kafka_timestamp AS VARCHAR), error_class,
                  error_message, to_base64(raw), CAST(dead_lettered_at AS VARCHAR), kafka_key
                FROM lake.%s."%s"
                ORDER BY dead_lettered_at, topic, kafka_partition, kafka_offset LIMIT %d OFFSET %d"""
                        .formatted(DeadLetters.NAMESPACE, pipeline.replace("\"", "\"\""), limit, offset);
        QueryResult result = queries.query(sql, LakeQuery.ENGINE);
        List<DeadLetterPosition> positions = result.rows().stream()
                .map(row -> new DeadLetterPosition(
                        String.valueOf(row.get(0)),
                        ((Number) row.get(1)).intValue(),
                        ((Number) row.get(2)).longValue()))
                .toList();
        Set<DeadLetterPosition> replayed = replays.replayedAmong(pipeline, positions);
        List<DeadLetter> letters = new ArrayList<>();
        for (int i = 0; i < positions.size(); i++) {
            List<Object> row = result.rows().get(i);
            String base64 = String.valueOf(row.get(6));
            letters.add(new DeadLetter(
                    positions.get(i).topic(),
                    positions.get(i).partition(),
                    positions.get(i).offset(),
                    Optional.ofNullable(row.get(3)).map(String::valueOf),
                    Optional.ofNullable(row.get(8)).map(String::valueOf),
                    String.valueOf(row.get(4)),
                    String.valueOf(row.get(5)),
                    utf8(Base64.getDecoder().decode(base64)),
                    base64,
                    String.valueOf(row.get(7)),
                    replayed.contains(positions.get(i))));
        }
        return new Page(letters, total);
    }

    private static Optional<String> utf8(byte[] bytes) {
        if (bytes.length == 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }
}
