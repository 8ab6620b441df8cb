package io.tarn.core.topic;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What a topic is to Tarn: its Kafka name and partition count, and how pipelines read it as {@code stream.<name>}.
 * With no columns its value is one {@code value STRING} column; with columns its values are JSON objects with those
 * fields. Either way the Kafka metadata columns {@link #METADATA_COLUMNS} are present.
 *
 * @param name Kafka topic name
 * @param partitions partition count
 * @param columns declared JSON columns; empty for raw values
 * @param watermark event-time watermark for windowed pipelines, if any
 * @param format how values are encoded: plain JSON rows, or change events of a captured table
 * @param primaryKey the captured table's primary key columns (change topics only; empty otherwise)
 */
public record TopicSpec(
        String name,
        int partitions,
        List<ColumnSpec> columns,
        Optional<WatermarkSpec> watermark,
        Format format,
        List<String> primaryKey) {
    /** How a topic's values are encoded, by the name of the Flink format that reads them. */
    public enum Format {
        /** One JSON object per row (or raw text when there are no columns); rows are only ever appended. */
        JSON("json"),
        /**
         * Debezium change events of a captured table ({@code before}, {@code after}, {@code op}) keyed by the primary
         * key: pipelines read the topic as a changelog of the table, with inserts, updates and deletes.
         */
        DEBEZIUM_JSON("debezium-json"),
        /**
         * A view's rows as its job writes them: the key columns as a JSON object in the record key, the row as a JSON
         * object in the value, a tombstone when a row is gone. The topic is compacted; pipelines read it as a
         * changelog of the view, upserts and deletes by key.
         */
        UPSERT_JSON("upsert-json");

        private final String id;

        Format(String id) {
            this.id = id;
        }

        /** The format's name in Flink and in Tarn's API. */
        public String id() {
            return id;
        }
    }

    /** The longest topic name Kafka allows. */
    public static final int MAX_NAME_LENGTH = 249;

    /** Metadata columns every stream table has, named so they cannot collide with JSON fields by accident. */
    public static final List<String> METADATA_COLUMNS =
            List.of("kafka_key", "kafka_partition", "kafka_offset", "kafka_timestamp");

    /** A topic of JSON rows. */
    public TopicSpec(String name, int partitions, List<ColumnSpec> columns, Optional<WatermarkSpec> watermark) {
        this(name, partitions, columns, watermark, Format.JSON, List.of());
    }

    /** A topic of change events of a captured table with the given primary key. */
    public static TopicSpec changes(String name, int partitions, List<ColumnSpec> columns, List<String> primaryKey) {
        return new TopicSpec(name, partitions, columns, Optional.empty(), Format.DEBEZIUM_JSON, primaryKey);
    }

    /** A topic of a view's rows, keyed by the given columns. */
    public static TopicSpec upserts(String name, int partitions, List<ColumnSpec> columns, List<String> key) {
        return new TopicSpec(name, partitions, columns, Optional.empty(), Format.UPSERT_JSON, key);
    }

    public TopicSpec {
        requireNonNull(name, "name is null");
        requireNonNull(format, "format is null");
        primaryKey = List.copyOf(requireNonNull(primaryKey, "primaryKey is null"));
        columns = List.copyOf(requireNonNull(columns, "columns is null"));
        requireNonNull(watermark, "watermark is null");
        requireValidName(name);
        if (partitions < 1 || partitions > 10_000) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "topic '%s' partitions must be between 1 and 10000, got %d".formatted(name, partitions));
        }
        Set<String> seen = new HashSet<>();
        for (ColumnSpec column : columns) {
            if (!seen.add(column.name().toLowerCase(Locale.ROOT))) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "topic '%s' declares column '%s' twice".formatted(name, column.name()));
            }
        }
        if (format != Format.JSON && (columns.isEmpty() || primaryKey.isEmpty())) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "topic '%s' of %s must declare its columns and primary key"
                            .formatted(name, format == Format.DEBEZIUM_JSON ? "change events" : "a view's rows"));
        }
        if (format == Format.JSON && !primaryKey.isEmpty()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "topic '%s' of JSON rows has no primary key".formatted(name));
        }
        for (String key : primaryKey) {
            if (columns.stream().noneMatch(c -> c.name().equals(key))) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "primary key column '%s' is not a column of topic '%s'".formatted(key, name));
            }
        }
        if (watermark.isPresent()) {
            requireTimestampColumn(name, columns, watermark.get());
        }
    }

    private static void requireTimestampColumn(String name, List<ColumnSpec> columns, WatermarkSpec w) {
        ColumnSpec column = columns.stream()
                .filter(c -> c.name().equals(w.column()))
                .findFirst()
                .orElseThrow(() -> new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "watermark column '%s' is not a declared column of topic '%s'".formatted(w.column(), name)));
        if (column.type().kind() != ColumnType.Kind.TIMESTAMP
                && column.type().kind() != ColumnType.Kind.TIMESTAMP_LTZ) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "watermark column '%s' must be TIMESTAMP(3) or TIMESTAMP_LTZ(3), not %s"
                            .formatted(w.column(), column.type().sql()));
        }
    }

    /** The same topic with another partition count. */
    public TopicSpec withPartitions(int count) {
        return new TopicSpec(name, count, columns, watermark, format, primaryKey);
    }

    /** Whether the values are raw text (no declared columns). */
    public boolean raw() {
        return columns.isEmpty();
    }

    /**
     * Checks a Kafka topic name as Kafka does.
     *
     * @throws TarnException {@link ErrorCode#INVALID_NAME} naming the topic
     */
    public static void requireValidName(String name) {
        if (name.isEmpty()
                || name.length() > MAX_NAME_LENGTH
                || !name.matches("[A-Za-z0-9._-]+")
                || name.equals(".")
                || name.equals("..")) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    "topic name '%s' must be 1-249 characters of letters, digits, '.', '_' and '-'".formatted(name));
        }
        if (name.startsWith("__")) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    "topic name '%s' is reserved: names starting with '__' are internal".formatted(name));
        }
    }
}
