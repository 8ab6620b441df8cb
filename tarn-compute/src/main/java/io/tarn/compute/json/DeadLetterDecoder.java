package io.tarn.compute.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.compute.ColumnTypes;
import io.tarn.compute.avro.WireFormatDecoder;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.ColumnType;
import io.tarn.core.topic.RecordCheck;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.Collector;

/**
 * The decoder of a stream table whose pipeline dead-letters bad records: instead of failing, a record that is not a
 * JSON object of the topic's columns becomes a row whose columns are null and whose {@link DeadLetterColumns} say what
 * was wrong and hold the record's bytes; a good record's row has those columns null. The pipeline routes the first
 * kind to its dead letters and the second to its SQL ({@code StreamTables}).
 *
 * <p>A record is good when Tarn's decoder reads it on its fast path (which takes only values it reads exactly), or
 * when Flink's JSON format reads it and it passes {@link RecordCheck}, the check HTTP ingest refuses records by: a
 * record a Kafka client wrote is dead-lettered exactly when HTTP ingest would have refused it, also where Flink's
 * format alone would wrap an integer, cut a fraction or turn a number too large for its decimal into null. A record in
 * the Confluent wire format is good when {@link WireFormatDecoder} reads it.
 */
final class DeadLetterDecoder implements DeserializationSchema<RowData> {
    private static final long serialVersionUID = 1L;
    /** The longest error message kept; the record itself is in the dead letter's bytes. */
    private static final int MAX_MESSAGE = 1_000;

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private final TarnJsonDeserializationSchema records;
    private final WireFormatDecoder avro;
    private final TypeInformation<RowData> producedType;
    private final int arity;
    /** Per column of the topic's rows, its position in the produced row. */
    private final int[] columnPositions;
    /** The positions of the error class, message and raw bytes in the produced row; -1 where not read. */
    private final int errorClassPosition;

    private final int errorMessagePosition;
    private final int rawPosition;

    private final boolean keepRaw;
    /** Whether the produced row is the topic's columns followed by the dead-letter columns it reads. */
    private final boolean appended;

    /** The topic's columns, as RecordCheck takes them (made in {@link #open}: they are not serializable). */
    private final RowType recordType;

    private transient List<ColumnSpec> columns;
    /** Positions in the topic's rows of NOT NULL columns, which the fast path leaves null when a record lacks them. */
    private final int[] notNull;

    private transient List<RowData> decoded;
    private transient Collector<RowData> collector;

    DeadLetterDecoder(RowType rowType, TypeInformation<RowData> producedType) {
        this(rowType, producedType, false, null);
    }

    /**
     * @param keepRaw whether the rows of good records carry their bytes too, where the raw column is read
     * @param bootstrapServers the Kafka cluster of the registry's schemas ({@link WireFormatDecoder}); null: records in
     *     the Confluent wire format are dead letters
     */
    DeadLetterDecoder(
            RowType rowType, TypeInformation<RowData> producedType, boolean keepRaw, String bootstrapServers) {
        this.producedType = producedType;
        this.keepRaw = keepRaw;
        List<RowType.RowField> fields = rowType.getFields();
        arity = fields.size();
        List<RowType.RowField> recordFields = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        int errorClass = -1;
        int errorMessage = -1;
        int raw = -1;
        for (int i = 0; i < fields.size(); i++) {
            switch (fields.get(i).getName()) {
                case DeadLetterColumns.ERROR_CLASS -> errorClass = i;
                case DeadLetterColumns.ERROR_MESSAGE -> errorMessage = i;
                case DeadLetterColumns.RAW -> raw = i;
                default -> {
                    recordFields.add(fields.get(i));
                    positions.add(i);
                }
            }
        }
        errorClassPosition = errorClass;
        errorMessagePosition = errorMessage;
        rawPosition = raw;
        columnPositions = positions.stream().mapToInt(Integer::intValue).toArray();
        boolean inOrder = true;
        for (int i = 0; i < columnPositions.length; i++) {
            inOrder &= columnPositions[i] == i;
        }
        appended = inOrder;
        recordType = new RowType(recordFields);
        records = new TarnJsonDeserializationSchema(
                recordType, InternalTypeInfo.of(recordType), appended ? arity - columnPositions.length : 0, null);
        avro = bootstrapServers == null ? null : new WireFormatDecoder(recordType, bootstrapServers);
        List<Integer> required = new ArrayList<>();
        for (int i = 0; i < recordFields.size(); i++) {
            if (!recordFields.get(i).getType().isNullable()) {
                required.add(i);
            }
        }
        notNull = required.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A column's type as {@link RecordCheck} knows it. */
    private static ColumnType columnType(LogicalType type) {
        return new ColumnType(type.asSummaryString(), ColumnTypes.kind(type));
    }

    @Override
    public void open(InitializationContext context) throws Exception {
        records.open(context);
        columns = recordType.getFields().stream()
                .map(f -> new ColumnSpec(f.getName(), columnType(f.getType())))
                .toList();
        decoded = new ArrayList<>(1);
        collector = new Collector<>() {
            @Override
            public void collect(RowData row) {
                decoded.add(row);
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public RowData deserialize(byte[] message) {
        throw new UnsupportedOperationException("use deserialize(byte[], Collector)");
    }

    @Override
    public void deserialize(byte[] message, Collector<RowData> out) {
        if (message == null || message.length == 0) {
            out.collect(deadLetter(
                    message, new RecordCheck.Problem(DeadLetterColumns.NO_VALUE, "the record has no value")));
            return;
        }
        if (WireFormatDecoder.isWireFormat(message)) {
            avro(message, out);
            return;
        }
        decoded.clear();
        long slow = records.slowRecords();
        Optional<RecordCheck.Problem> problem;
        try {
            records.deserialize(message, collector);
            // the fast path takes only values it reads exactly; what Flink's format read is checked as ingest does
            problem = records.slowRecords() == slow && hasRequired() ? Optional.empty() : problem(message);
        } catch (IOException | RuntimeException e) {
            problem = Optional.of(problem(message)
                    .orElseGet(() -> new RecordCheck.Problem(
                            RecordCheck.Problem.INVALID_FIELD, abbreviate(TarnException.rootMessage(e)))));
        }
        if (problem.isPresent()) {
            out.collect(deadLetter(message, problem.get()));
            return;
        }
        if (decoded.isEmpty()) {
            out.collect(deadLetter(
                    message, new RecordCheck.Problem(DeadLetterColumns.NO_VALUE, "the record decodes to no row")));
        }
        for (RowData row : decoded) {
            RowData wide = withColumns(row);
            if (keepRaw && rawPosition >= 0) {
                ((GenericRowData) wide).setField(rawPosition, message);
            }
            out.collect(wide);
        }
    }

    /** A record in the Confluent wire format: its row, or its dead letter. */
    private void avro(byte[] message, Collector<RowData> out) {
        if (avro == null) {
            out.collect(deadLetter(
                    message,
                    new RecordCheck.Problem(
                            WireFormatDecoder.UNKNOWN_SCHEMA,
                            "the record is in the Confluent wire format, which this table does not read")));
            return;
        }
        RowData row;
        try {
            row = withColumns(avro.decode(message, appended ? arity : columnPositions.length));
        } catch (WireFormatDecoder.Problem e) {
            out.collect(deadLetter(message, new RecordCheck.Problem(e.errorClass(), abbreviate(e.getMessage()))));
            return;
        }
        if (keepRaw && rawPosition >= 0) {
            ((GenericRowData) row).setField(rawPosition, message);
        }
        out.collect(row);
    }

    /** What {@link RecordCheck} finds wrong with a record, reading it as ingest does. */
    private Optional<RecordCheck.Problem> problem(byte[] message) {
        JsonNode record;
        try {
            record = JSON.readTree(message);
        } catch (JsonProcessingException e) {
            return Optional.of(
                    new RecordCheck.Problem(DeadLetterColumns.MALFORMED_JSON, abbreviate(e.getOriginalMessage())));
        } catch (IOException e) {
            return Optional.of(new RecordCheck.Problem(DeadLetterColumns.MALFORMED_JSON, abbreviate(e.getMessage())));
        }
        if (record == null || record.isMissingNode()) {
            return Optional.of(new RecordCheck.Problem(DeadLetterColumns.NO_VALUE, "the record holds no JSON value"));
        }
        return RecordCheck.problem(record, columns);
    }

    /** Whether the row just decoded has every NOT NULL column. */
    private boolean hasRequired() {
        for (RowData row : decoded) {
            for (int position : notNull) {
                if (row.isNullAt(position)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static String abbreviate(String message) {
        String text = String.valueOf(message);
        return text.length() <= MAX_MESSAGE ? text : text.substring(0, MAX_MESSAGE - 3) + "...";
    }

    /** A row of the topic's columns in the produced row's layout, as the {@link GenericRowData} Kafka's connector takes. */
    private RowData withColumns(RowData row) {
        if (row.getArity() == arity) {
            return row; // the fast path made it wide already
        }
        GenericRowData wide = new GenericRowData(row.getRowKind(), arity);
        GenericRowData fields = (GenericRowData) row;
        for (int i = 0; i < columnPositions.length; i++) {
            wide.setField(columnPositions[i], fields.getField(i));
        }
        return wide;
    }

    private RowData deadLetter(byte[] message, RecordCheck.Problem problem) {
        GenericRowData row = new GenericRowData(arity);
        if (errorClassPosition >= 0) {
            row.setField(errorClassPosition, StringData.fromString(problem.errorClass()));
        }
        if (errorMessagePosition >= 0) {
            row.setField(errorMessagePosition, StringData.fromString(problem.message()));
        }
        if (rawPosition >= 0) {
            row.setField(rawPosition, message == null ? new byte[0] : message);
        }
        return row;
    }

    @Override
    public boolean isEndOfStream(RowData nextElement) {
        return false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return producedType;
    }
}
