package io.tarn.lake;

import java.io.IOException;
import java.util.Optional;
import org.apache.iceberg.Schema;

/**
 * Tables that lake SQL reads as {@code live.<name>} next to lake tables: live views, whose rows are in Tarn's serving
 * store rather than in the lake.
 */
public interface LiveTables {
    /** No live tables. */
    LiveTables NONE = name -> Optional.empty();

    /** The live table of this name (as written after {@code live.}, lower case), if there is one. */
    Optional<Table> table(String name);

    /** One live table. */
    interface Table {
        /** Its columns, with their types in Iceberg's terms (which lake SQL maps to DuckDB's). */
        Schema schema();

        /**
         * Hands every row to the sink, as the text of a JSON object keyed by column name (values as Flink's JSON
         * format writes them: ISO-8601 times, base64 bytes), all from one state of the table.
         *
         * @throws IOException what the sink throws
         */
        void rows(RowSink sink) throws IOException;
    }

    /** Receives rows as JSON objects' text. */
    interface RowSink {
        void row(String json) throws IOException;
    }
}
