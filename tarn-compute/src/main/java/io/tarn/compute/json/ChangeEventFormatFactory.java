package io.tarn.compute.json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonRowDataDeserializationSchema;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DeserializationFormatFactory;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.Collector;

/**
 * The value format of change topics ({@code 'value.format' = 'tarn-changes'}): Debezium change events as Tarn's
 * capture writes them ({@code before}, {@code after}, {@code op}; ISO-8601 times), read as an <em>upsert</em>
 * changelog keyed by the table's primary key: creates and snapshot reads are inserts, updates are the new row
 * ({@code UPDATE_AFTER}), deletes are the old row, which with PostgreSQL's default replica identity holds the key only.
 *
 * <p>Flink's {@code debezium-json} needs the old row of every update, which PostgreSQL only logs with
 * {@code REPLICA IDENTITY FULL} (more WAL on the operational database for every update). Read as upserts, Flink's
 * planner adds what a query needs itself: an upsert sink with the same key (a mirror) takes the rows as they are,
 * while aggregations and joins get the retractions from a ChangelogNormalize that remembers each key's last row.
 * Tombstones (null values) are skipped. It has no options and no encoder.
 */
public final class ChangeEventFormatFactory implements DeserializationFormatFactory {
    public static final String IDENTIFIER = "tarn-changes";

    @Override
    public DecodingFormat<DeserializationSchema<RowData>> createDecodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        return new DecodingFormat<>() {
            @Override
            public DeserializationSchema<RowData> createRuntimeDecoder(
                    DynamicTableSource.Context sourceContext, DataType physicalDataType) {
                return new Decoder(physicalDataType, sourceContext.createTypeInformation(physicalDataType));
            }

            @Override
            public ChangelogMode getChangelogMode() {
                return ChangelogMode.upsert();
            }
        };
    }

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of();
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of();
    }

    /** Decodes the envelope with Flink's JSON decoder (row types of before and after), then maps {@code op}. */
    static final class Decoder implements DeserializationSchema<RowData> {
        private static final long serialVersionUID = 1L;

        private final JsonRowDataDeserializationSchema envelope;
        private final TypeInformation<RowData> producedType;

        Decoder(DataType physicalDataType, TypeInformation<RowData> producedType) {
            RowType envelopeType = (RowType) DataTypes.ROW(
                            DataTypes.FIELD("before", physicalDataType),
                            DataTypes.FIELD("after", physicalDataType),
                            DataTypes.FIELD("op", DataTypes.STRING()))
                    .getLogicalType();
            this.envelope = new JsonRowDataDeserializationSchema(
                    envelopeType, producedType, false, false, TimestampFormat.ISO_8601);
            this.producedType = producedType;
        }

        @Override
        public void open(InitializationContext context) throws Exception {
            envelope.open(context);
        }

        @Override
        public RowData deserialize(byte[] message) {
            throw new UnsupportedOperationException("change events decode through deserialize(message, collector)");
        }

        @Override
        public void deserialize(byte[] message, Collector<RowData> out) throws IOException {
            if (message == null || message.length == 0) {
                return; // tombstone after a delete, for Kafka's compaction
            }
            GenericRowData row;
            try {
                row = (GenericRowData) envelope.deserialize(message);
            } catch (IOException | RuntimeException e) {
                throw new IOException("corrupt change event: " + abbreviate(message), e);
            }
            String op = row.getString(2) == null ? null : row.getString(2).toString();
            RowData before = row.getRow(0, 0);
            RowData after = row.getRow(1, 0);
            if ("c".equals(op) || "r".equals(op)) {
                emit(after, RowKind.INSERT, out, message);
            } else if ("u".equals(op)) {
                emit(after, RowKind.UPDATE_AFTER, out, message);
            } else if ("d".equals(op)) {
                emit(before, RowKind.DELETE, out, message);
            } else {
                throw new IOException("change event with unknown op '%s': %s".formatted(op, abbreviate(message)));
            }
        }

        private static void emit(RowData row, RowKind kind, Collector<RowData> out, byte[] message) throws IOException {
            if (row == null) {
                throw new IOException("change event without its row: " + abbreviate(message));
            }
            row.setRowKind(kind);
            out.collect(row);
        }

        private static String abbreviate(byte[] message) {
            String text = new String(message, StandardCharsets.UTF_8);
            return text.length() <= 300 ? text : text.substring(0, 297) + "...";
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
}
