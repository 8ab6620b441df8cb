package io.tarn.compute.lake;

import java.util.Optional;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.data.RowData;
import org.apache.iceberg.flink.TableLoader;

/** Lake table sinks for jobs that Tarn builds itself rather than through Flink's planner. */
public final class LakeSinks {
    private LakeSinks() {}

    /**
     * Adds a lake table's sink (as created by the lake catalog's table factory) to a stream whose every row is a new
     * object, so that its writer thread takes the rows without copying them. The sink, its operator uids and its
     * state are the ones the planner would add for the same table.
     *
     * @return empty if the sink is not one with a writer thread of its own (then only the planner can add it)
     */
    public static Optional<DataStreamSink<RowData>> appendNewRows(DynamicTableSink sink, DataStream<RowData> rows) {
        if (sink instanceof PipelinedTableSink pipelined && pipelined.pipelined()) {
            return Optional.of(pipelined.sinkTo(rows, false));
        }
        return Optional.empty();
    }

    /** A loader of the table a lake table sink writes, if it is one that {@link #appendNewRows} can add. */
    public static Optional<TableLoader> tableLoader(DynamicTableSink sink) {
        if (sink instanceof PipelinedTableSink pipelined && pipelined.pipelined()) {
            return Optional.of(pipelined.tableLoader());
        }
        return Optional.empty();
    }
}
