package io.tarn.compute.json;

import io.tarn.compute.avro.WireFormatDecoder;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.formats.json.JsonFormatFactory;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.format.EncodingFormat;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DeserializationFormatFactory;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.SerializationFormatFactory;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;

/**
 * The value format of Tarn's stream tables ({@code 'value.format' = 'tarn-json'}): Flink's JSON format with ISO-8601
 * timestamps and missing fields read as null, decoded by {@link TarnJsonDeserializationSchema} (same rows, less CPU)
 * and encoded by Flink's own JSON encoder. Records in the Confluent wire format (Avro by a schema id of Tarn's
 * registry) are read too, by {@link WireFormatDecoder}, from the table's Kafka cluster. Its option {@link
 * #DEAD_LETTERS} turns bad records into rows.
 */
public final class TarnJsonFormatFactory implements DeserializationFormatFactory, SerializationFormatFactory {
    public static final String IDENTIFIER = "tarn-json";

    /**
     * Whether bad records become dead-letter rows ({@link DeadLetterDecoder}) instead of failing the job; the table then
     * declares {@link DeadLetterColumns} after the topic's columns.
     */
    public static final ConfigOption<Boolean> DEAD_LETTERS =
            ConfigOptions.key("dead-letters").booleanType().defaultValue(false);

    /**
     * With {@link #DEAD_LETTERS}: whether good records' rows carry their bytes too ({@link DeadLetterColumns#RAW}), for
     * a quality rule that dead-letters records that decode.
     */
    public static final ConfigOption<Boolean> KEEP_RAW =
            ConfigOptions.key("keep-raw").booleanType().defaultValue(false);

    /** The options of Flink's JSON format that this format's encoding is. */
    private static final Map<String, String> FLINK_JSON_OPTIONS = Map.of("timestamp-format.standard", "ISO-8601");

    @Override
    public DecodingFormat<DeserializationSchema<RowData>> createDecodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        boolean deadLetters = formatOptions.get(DEAD_LETTERS);
        boolean keepRaw = formatOptions.get(KEEP_RAW);
        String bootstrapServers = context.getCatalogTable().getOptions().get("properties.bootstrap.servers");
        return new DecodingFormat<>() {
            @Override
            public DeserializationSchema<RowData> createRuntimeDecoder(
                    DynamicTableSource.Context sourceContext, DataType physicalDataType) {
                RowType rowType = (RowType) physicalDataType.getLogicalType();
                TypeInformation<RowData> producedType = sourceContext.createTypeInformation(physicalDataType);
                WireFormatDecoder avro =
                        bootstrapServers == null ? null : new WireFormatDecoder(rowType, bootstrapServers);
                return deadLetters
                        ? new DeadLetterDecoder(rowType, producedType, keepRaw, bootstrapServers)
                        : new TarnJsonDeserializationSchema(rowType, producedType, 0, avro);
            }

            @Override
            public ChangelogMode getChangelogMode() {
                return ChangelogMode.insertOnly();
            }
        };
    }

    /** The decoder of records whose JSON objects have the given fields, outside a table (the benchmark's ceiling). */
    public static DeserializationSchema<RowData> decoder(RowType rowType) {
        return new TarnJsonDeserializationSchema(rowType, InternalTypeInfo.of(rowType));
    }

    @Override
    public EncodingFormat<SerializationSchema<RowData>> createEncodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        return new JsonFormatFactory().createEncodingFormat(context, Configuration.fromMap(FLINK_JSON_OPTIONS));
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
        return Set.of(DEAD_LETTERS, KEEP_RAW);
    }
}
