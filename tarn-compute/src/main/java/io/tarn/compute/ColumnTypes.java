package io.tarn.compute;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.ColumnType;
import java.util.List;
import java.util.Optional;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.utils.LogicalTypeParser;
import org.apache.flink.table.types.utils.TypeConversions;
import org.apache.iceberg.Schema;
import org.apache.iceberg.flink.FlinkSchemaUtil;

/**
 * Topic column types as Flink's own type parser reads them. A type is accepted only when Flink parses it and Tarn
 * carries its values (and those of every type nested in it); it is stored in Flink's own spelling, so that what a
 * pipeline declares is what was checked.
 */
public final class ColumnTypes {
    private ColumnTypes() {}

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming the type and Flink's reason, or the part of it Tarn
     *     does not carry
     */
    public static ColumnType parse(String text) {
        LogicalType type;
        try {
            type = LogicalTypeParser.parse(text, ColumnTypes.class.getClassLoader());
        } catch (RuntimeException e) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "column type '%s' is not a Flink SQL type: %s".formatted(text, TarnException.rootMessage(e)),
                    e);
        }
        ColumnType.Kind kind = kind(text, type);
        requireCarried(text, type);
        String summary = type.asSummaryString();
        String canonical = reads(summary, type) ? summary : type.asSerializableString();
        return new ColumnType(canonical, kind);
    }

    /** Columns as an Iceberg schema, their types mapped as Iceberg's Flink integration maps them. */
    public static Schema icebergSchema(List<ColumnSpec> columns) {
        return FlinkSchemaUtil.convert(ResolvedSchema.of(columns.stream()
                .<Column>map(c -> Column.physical(
                        c.name(),
                        TypeConversions.fromLogicalToDataType(
                                LogicalTypeParser.parse(c.type().sql(), ColumnTypes.class.getClassLoader()))))
                .toList()));
    }

    private static boolean reads(String text, LogicalType type) {
        try {
            return LogicalTypeParser.parse(text, ColumnTypes.class.getClassLoader())
                    .equals(type);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void requireCarried(String text, LogicalType type) {
        for (LogicalType child : type.getChildren()) {
            kind(text, child);
            requireCarried(text, child);
        }
    }

    /**
     * The family of a type Flink parsed.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for a type Tarn does not carry
     */
    public static ColumnType.Kind kind(LogicalType type) {
        return kind(type.asSummaryString(), type);
    }

    private static ColumnType.Kind kind(String text, LogicalType type) {
        return switch (type.getTypeRoot()) {
            case CHAR, VARCHAR -> ColumnType.Kind.STRING;
            case BOOLEAN -> ColumnType.Kind.BOOLEAN;
            case TINYINT, SMALLINT, INTEGER, BIGINT -> ColumnType.Kind.INTEGER;
            case FLOAT, DOUBLE -> ColumnType.Kind.FLOATING;
            case DECIMAL -> ColumnType.Kind.DECIMAL;
            case DATE -> ColumnType.Kind.DATE;
            case TIME_WITHOUT_TIME_ZONE -> ColumnType.Kind.TIME;
            case TIMESTAMP_WITHOUT_TIME_ZONE -> ColumnType.Kind.TIMESTAMP;
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE -> ColumnType.Kind.TIMESTAMP_LTZ;
            case BINARY, VARBINARY -> ColumnType.Kind.BYTES;
            case ARRAY -> ColumnType.Kind.ARRAY;
            case MAP -> ColumnType.Kind.MAP;
            case ROW -> ColumnType.Kind.ROW;
            default ->
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        ("column type '%s' is not supported: Tarn does not carry %s values; use STRING, BOOLEAN, INT,"
                                        + " BIGINT, DOUBLE, DECIMAL(p,s), DATE, TIME, TIMESTAMP(p), TIMESTAMP_LTZ(p),"
                                        + " BYTES, ARRAY<..>, MAP<..> or ROW<..>")
                                .formatted(text, type.asSummaryString()));
        };
    }

    /** Integer types by width. */
    private static final List<LogicalTypeRoot> INTEGERS =
            List.of(LogicalTypeRoot.TINYINT, LogicalTypeRoot.SMALLINT, LogicalTypeRoot.INTEGER, LogicalTypeRoot.BIGINT);

    /**
     * Why a column of type {@code reader} cannot hold every value of a column of type {@code writer} (both as Tarn
     * stores them), if it cannot: only the same type, or a widening (TINYINT, SMALLINT, INT, BIGINT to a wider one, FLOAT
     * to DOUBLE, a DECIMAL to a larger precision at the same scale), and not a nullable one into NOT NULL.
     */
    public static Optional<String> readProblem(String writer, String reader) {
        LogicalType from = LogicalTypeParser.parse(writer, ColumnTypes.class.getClassLoader());
        LogicalType to = LogicalTypeParser.parse(reader, ColumnTypes.class.getClassLoader());
        if (from.isNullable() && !to.isNullable()) {
            return Optional.of("a NOT NULL column cannot hold the nulls of a nullable one");
        }
        LogicalType a = from.copy(true);
        LogicalType b = to.copy(true);
        if (a.equals(b)) {
            return Optional.empty();
        }
        int fromRank = INTEGERS.indexOf(a.getTypeRoot());
        int toRank = INTEGERS.indexOf(b.getTypeRoot());
        if (fromRank >= 0 && toRank >= fromRank) {
            return Optional.empty();
        }
        if (a.getTypeRoot() == LogicalTypeRoot.FLOAT && b.getTypeRoot() == LogicalTypeRoot.DOUBLE) {
            return Optional.empty();
        }
        if (a instanceof DecimalType d
                && b instanceof DecimalType e
                && d.getScale() == e.getScale()
                && e.getPrecision() >= d.getPrecision()) {
            return Optional.empty();
        }
        return Optional.of("%s cannot hold every %s value (only widening: TINYINT, SMALLINT, INT, BIGINT to a wider"
                        .formatted(to.asSummaryString(), from.asSummaryString())
                + " one, FLOAT to DOUBLE, a DECIMAL to a larger precision at the same scale)");
    }
}
