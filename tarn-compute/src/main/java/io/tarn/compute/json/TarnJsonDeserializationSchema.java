package io.tarn.compute.json;

import io.tarn.compute.avro.WireFormatDecoder;
import io.tarn.core.topic.IsoTimestamps;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonParserRowDataDeserializationSchema;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.Collector;

/**
 * Decodes JSON objects into Flink rows with exactly the result of Flink's own JSON format (ISO-8601 timestamps, missing
 * fields as null, parse errors fail) at a fraction of its cost for the records Tarn's ingest produces: flat objects of
 * strings, numbers, booleans and ISO timestamps.
 *
 * <p>A record is scanned once over its bytes: strings without escapes become {@link BinaryStringData} from their UTF-8
 * bytes (no {@code String}, no re-encoding), integers are read digit by digit, timestamps field by field
 * ({@link IsoTimestamps}, no {@code java.time}). Anything the scanner is not certain to read exactly as Flink would —
 * escapes, nested values, numbers in strings, a timestamp of another shape, a duplicate key, malformed or unusual
 * JSON, a column type outside that list — sends the whole record to Flink's {@link
 * JsonParserRowDataDeserializationSchema}, which decides (and raises Flink's errors). A test compares both on
 * generated and mutated records.
 *
 * <p>Size: one field decoder per Flink type, each with the exact rules of Flink's own JSON format it must match, side
 * by side so that they are compared in one place.
 */
final class TarnJsonDeserializationSchema implements DeserializationSchema<RowData> {
    private static final long serialVersionUID = 1L;

    private enum Kind {
        STRING,
        BOOLEAN,
        TINYINT,
        SMALLINT,
        INT,
        BIGINT,
        FLOAT,
        DOUBLE,
        TIMESTAMP,
        TIMESTAMP_LTZ
    }

    /** Thrown (preallocated, no stack) when a record leaves the fast path. */
    private static final class Unusual extends Exception {
        private static final long serialVersionUID = 1L;

        Unusual() {
            super(null, null, false, false);
        }
    }

    private static final Unusual UNUSUAL = new Unusual();
    /** Bytes a string's content may hold as they are: ASCII but control characters, quote and backslash. */
    private static final boolean[] PLAIN_ASCII = new boolean[256];

    static {
        for (int c = 0x20; c < 0x80; c++) {
            PLAIN_ASCII[c] = c != '"' && c != '\\';
        }
    }

    private static final int MAX_DEPTH = 64;
    private static final int MAX_NUMBER_LENGTH = 64;

    private final TypeInformation<RowData> producedType;
    private final JsonParserRowDataDeserializationSchema flink;
    /** The fast kind of each field, or null when some field's type has none (then every record goes to Flink). */
    private final Kind[] kinds;

    private final byte[][] names;
    private final int trailingFields;
    private final WireFormatDecoder avro;
    private transient long[] timestamp;
    /** What {@link #string} and {@link #number} learnt about the value they read last. */
    private transient boolean hasEscape;

    private transient boolean allAscii;
    private transient boolean numberIsFloat;
    /** Records sent to Flink's deserializer since {@link #open}. */
    private transient long slowRecords;

    TarnJsonDeserializationSchema(RowType rowType, TypeInformation<RowData> producedType) {
        this(rowType, producedType, 0, null);
    }

    /**
     * @param trailingFields fields after the record's in each row of the fast path, left null (for {@link
     *     DeadLetterDecoder}, whose rows must be {@link GenericRowData} of its width: Kafka's connector joins them so)
     * @param avro the decoder of records in the Confluent wire format; null: such records fail
     */
    TarnJsonDeserializationSchema(
            RowType rowType, TypeInformation<RowData> producedType, int trailingFields, WireFormatDecoder avro) {
        this.producedType = producedType;
        this.trailingFields = trailingFields;
        this.avro = avro;
        this.flink = new JsonParserRowDataDeserializationSchema(
                rowType, producedType, false, false, TimestampFormat.ISO_8601);
        List<RowType.RowField> fields = rowType.getFields();
        Kind[] fieldKinds = new Kind[fields.size()];
        names = new byte[fields.size()][];
        boolean fast = true;
        for (int i = 0; i < fields.size(); i++) {
            names[i] = fields.get(i).getName().getBytes(StandardCharsets.UTF_8);
            fieldKinds[i] = kind(fields.get(i).getType());
            fast &= fieldKinds[i] != null;
        }
        kinds = fast ? fieldKinds : null;
    }

    private static Kind kind(LogicalType type) {
        return switch (type.getTypeRoot()) {
            case CHAR, VARCHAR -> Kind.STRING;
            case BOOLEAN -> Kind.BOOLEAN;
            case TINYINT -> Kind.TINYINT;
            case SMALLINT -> Kind.SMALLINT;
            case INTEGER -> Kind.INT;
            case BIGINT -> Kind.BIGINT;
            case FLOAT -> Kind.FLOAT;
            case DOUBLE -> Kind.DOUBLE;
            case TIMESTAMP_WITHOUT_TIME_ZONE -> Kind.TIMESTAMP;
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE -> Kind.TIMESTAMP_LTZ;
            default -> null;
        };
    }

    @Override
    public void open(InitializationContext context) throws Exception {
        flink.open(context);
    }

    @Override
    public RowData deserialize(byte[] message) {
        throw new UnsupportedOperationException("use deserialize(byte[], Collector)");
    }

    @Override
    public void deserialize(byte[] message, Collector<RowData> out) throws IOException {
        if (WireFormatDecoder.isWireFormat(message)) {
            if (avro == null) {
                throw new IOException("the record is in the Confluent wire format, which this table does not read");
            }
            try {
                out.collect(avro.decode(message, names.length + trailingFields));
            } catch (WireFormatDecoder.Problem e) {
                throw new IOException(e.getMessage());
            }
            return;
        }
        if (message != null && kinds != null) {
            GenericRowData row;
            try {
                row = scan(message);
            } catch (Unusual | RuntimeException e) {
                row = null;
            }
            if (row != null) {
                out.collect(row);
                return;
            }
        }
        slowRecords++;
        flink.deserialize(message, out);
    }

    /** How many records went to Flink's deserializer since {@link #open} (for tests). */
    long slowRecords() {
        return slowRecords;
    }

    @Override
    public boolean isEndOfStream(RowData nextElement) {
        return false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return producedType;
    }

    // ---- the scanner: every method returns the position after what it read, or throws UNUSUAL ----

    private GenericRowData scan(byte[] b) throws Unusual {
        if (timestamp == null) {
            timestamp = new long[2];
        }
        GenericRowData row = new GenericRowData(kinds.length + trailingFields);
        long seen = 0;
        boolean[] seenMany = kinds.length > 64 ? new boolean[kinds.length] : null;
        int p = whitespace(b, 0);
        p = expect(b, p, '{');
        p = whitespace(b, p);
        if (at(b, p) == '}') {
            p++;
        } else {
            int next = 0;
            while (true) {
                int keyStart = p + 1;
                p = string(b, expect(b, p, '"'));
                if (hasEscape) {
                    throw UNUSUAL;
                }
                int field = field(b, keyStart, p - 1, next);
                p = whitespace(b, expect(b, whitespace(b, p), ':'));
                if (field < 0) {
                    p = skip(b, p, 0);
                } else {
                    if (seenMany != null) {
                        if (seenMany[field]) {
                            throw UNUSUAL;
                        }
                        seenMany[field] = true;
                    } else {
                        if ((seen & (1L << field)) != 0) {
                            throw UNUSUAL;
                        }
                        seen |= 1L << field;
                    }
                    p = value(b, p, field, row);
                    next = field + 1;
                }
                p = whitespace(b, p);
                byte c = at(b, p++);
                if (c == '}') {
                    break;
                }
                if (c != ',') {
                    throw UNUSUAL;
                }
                p = whitespace(b, p);
            }
        }
        if (whitespace(b, p) != b.length) {
            throw UNUSUAL;
        }
        return row;
    }

    /** The field whose name is the key's bytes, trying the one after the previous first; -1 for other keys. */
    private int field(byte[] b, int from, int to, int guess) {
        int length = to - from;
        if (guess < names.length && Arrays.equals(b, from, to, names[guess], 0, names[guess].length)) {
            return guess;
        }
        for (int i = 0; i < names.length; i++) {
            if (names[i].length == length && Arrays.equals(b, from, to, names[i], 0, length)) {
                return i;
            }
        }
        return -1;
    }

    private int value(byte[] b, int p, int field, GenericRowData row) throws Unusual {
        byte c = at(b, p);
        if (c == 'n') {
            return literal(b, p, "null"); // absent from the row, like Flink's null handling
        }
        Kind kind = kinds[field];
        switch (kind) {
            case STRING -> {
                if (c == '"') {
                    int end = string(b, p + 1);
                    if (hasEscape) {
                        throw UNUSUAL;
                    }
                    row.setField(field, BinaryStringData.fromBytes(Arrays.copyOfRange(b, p + 1, end - 1)));
                    return end;
                }
                int end = c == 't' ? literal(b, p, "true") : c == 'f' ? literal(b, p, "false") : number(b, p);
                row.setField(field, BinaryStringData.fromBytes(Arrays.copyOfRange(b, p, end)));
                return end;
            }
            case BOOLEAN -> {
                if (c == 't') {
                    row.setField(field, Boolean.TRUE);
                    return literal(b, p, "true");
                }
                row.setField(field, Boolean.FALSE);
                return literal(b, p, "false");
            }
            case TINYINT, SMALLINT, INT, BIGINT -> {
                int end = number(b, p);
                if (numberIsFloat || end - p > 18) {
                    throw UNUSUAL;
                }
                long value = 0;
                for (int i = b[p] == '-' ? p + 1 : p; i < end; i++) {
                    value = value * 10 + (b[i] - '0');
                }
                value = b[p] == '-' ? -value : value;
                row.setField(
                        field,
                        switch (kind) {
                            case TINYINT -> (byte) inRange(value, Byte.MIN_VALUE, Byte.MAX_VALUE);
                            case SMALLINT -> (short) inRange(value, Short.MIN_VALUE, Short.MAX_VALUE);
                            case INT -> (int) inRange(value, Integer.MIN_VALUE, Integer.MAX_VALUE);
                            default -> value;
                        });
                return end;
            }
            case FLOAT, DOUBLE -> {
                int end = number(b, p);
                String text = new String(b, p, end - p, StandardCharsets.ISO_8859_1);
                row.setField(field, kind == Kind.FLOAT ? (Object) Float.parseFloat(text) : Double.parseDouble(text));
                return end;
            }
            default -> {
                int end = string(b, expect(b, p, '"'));
                if (hasEscape || !allAscii) {
                    throw UNUSUAL;
                }
                int length = end - 1 - (p + 1);
                int read = IsoTimestamps.parse(b, p + 1, end - 1, timestamp);
                boolean utc = kind == Kind.TIMESTAMP_LTZ;
                if (read < 0 || read != length - (utc ? 1 : 0) || (utc && b[end - 2] != 'Z')) {
                    throw UNUSUAL;
                }
                row.setField(field, TimestampData.fromEpochMillis(timestamp[0], (int) timestamp[1]));
                return end;
            }
        }
    }

    private static long inRange(long value, long min, long max) throws Unusual {
        if (value < min || value > max) {
            throw UNUSUAL;
        }
        return value;
    }

    /** Skips one value of any kind (of a field the row does not have), strictly by RFC 8259. */
    private int skip(byte[] b, int p, int depth) throws Unusual {
        byte c = at(b, p);
        switch (c) {
            case '"' -> {
                return string(b, p + 1);
            }
            case 't' -> {
                return literal(b, p, "true");
            }
            case 'f' -> {
                return literal(b, p, "false");
            }
            case 'n' -> {
                return literal(b, p, "null");
            }
            case '{', '[' -> {
                if (depth >= MAX_DEPTH) {
                    throw UNUSUAL;
                }
                byte close = c == '{' ? (byte) '}' : (byte) ']';
                p = whitespace(b, p + 1);
                if (at(b, p) == close) {
                    return p + 1;
                }
                while (true) {
                    if (c == '{') {
                        p = whitespace(b, string(b, expect(b, p, '"')));
                        p = whitespace(b, expect(b, p, ':'));
                    }
                    p = whitespace(b, skip(b, p, depth + 1));
                    byte d = at(b, p++);
                    if (d == close) {
                        return p;
                    }
                    if (d != ',') {
                        throw UNUSUAL;
                    }
                    p = whitespace(b, p);
                }
            }
            default -> {
                return number(b, p);
            }
        }
    }

    /**
     * Reads a string's content from just after its opening quote; returns the position after the closing quote and
     * sets {@link #hasEscape} and {@link #allAscii}. Control characters and anything but well-formed UTF-8 (no
     * overlong forms, no surrogates) are unusual: Jackson may read them differently.
     */
    private int string(byte[] b, int p) throws Unusual {
        hasEscape = false;
        allAscii = true;
        while (true) {
            // the common bytes first: plain ASCII, one table lookup each
            while (p < b.length && PLAIN_ASCII[b[p] & 0xFF]) {
                p++;
            }
            int c = at(b, p) & 0xFF;
            if (c == '"') {
                return p + 1;
            }
            if (c < 0x20) {
                throw UNUSUAL;
            }
            if (c == '\\') {
                hasEscape = true;
                int e = at(b, p + 1);
                if (e == 'u') {
                    for (int i = p + 2; i < p + 6; i++) {
                        if (Character.digit(at(b, i), 16) < 0) {
                            throw UNUSUAL;
                        }
                    }
                    p += 6;
                } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r'
                        || e == 't') {
                    p += 2;
                } else {
                    throw UNUSUAL;
                }
            } else {
                allAscii = false;
                p = utf8(b, p, c);
            }
        }
    }

    /** Validates one multi-byte UTF-8 sequence starting with {@code c} at {@code p}; returns the position after it. */
    private static int utf8(byte[] b, int p, int c) throws Unusual {
        int length;
        int min = 0x80;
        int max = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            length = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 3;
            min = c == 0xE0 ? 0xA0 : 0x80;
            max = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 4;
            min = c == 0xF0 ? 0x90 : 0x80;
            max = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            throw UNUSUAL;
        }
        int second = at(b, p + 1) & 0xFF;
        if (second < min || second > max) {
            throw UNUSUAL;
        }
        for (int i = p + 2; i < p + length; i++) {
            if ((at(b, i) & 0xC0) != 0x80) {
                throw UNUSUAL;
            }
        }
        return p + length;
    }

    /** Reads a number by RFC 8259's grammar; sets {@link #numberIsFloat} when it has a fraction or an exponent. */
    private int number(byte[] b, int p) throws Unusual {
        int start = p;
        numberIsFloat = false;
        if (at(b, p) == '-') {
            p++;
        }
        if (at(b, p) == '0') {
            p++;
        } else {
            p = digits(b, p);
        }
        if (p < b.length && b[p] == '.') {
            numberIsFloat = true;
            p = digits(b, p + 1);
        }
        if (p < b.length && (b[p] == 'e' || b[p] == 'E')) {
            numberIsFloat = true;
            p++;
            if (at(b, p) == '+' || at(b, p) == '-') {
                p++;
            }
            p = digits(b, p);
        }
        if (p - start > MAX_NUMBER_LENGTH) {
            throw UNUSUAL;
        }
        return p;
    }

    /** At least one digit. */
    private static int digits(byte[] b, int p) throws Unusual {
        int start = p;
        while (p < b.length && b[p] >= '0' && b[p] <= '9') {
            p++;
        }
        if (p == start) {
            throw UNUSUAL;
        }
        return p;
    }

    private static int literal(byte[] b, int p, String word) throws Unusual {
        for (int i = 0; i < word.length(); i++) {
            if (at(b, p + i) != word.charAt(i)) {
                throw UNUSUAL;
            }
        }
        return p + word.length();
    }

    private static int expect(byte[] b, int p, char c) throws Unusual {
        if (at(b, p) != c) {
            throw UNUSUAL;
        }
        return p + 1;
    }

    private static int whitespace(byte[] b, int p) {
        while (p < b.length && (b[p] == ' ' || b[p] == '\n' || b[p] == '\r' || b[p] == '\t')) {
            p++;
        }
        return p;
    }

    private static byte at(byte[] b, int p) throws Unusual {
        if (p >= b.length) {
            throw UNUSUAL;
        }
        return b[p];
    }
}
