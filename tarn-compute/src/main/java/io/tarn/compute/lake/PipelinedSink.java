package io.tarn.compute.lake;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.SupportsConcurrentExecutionAttempts;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.connector.sink2.SupportsPostCommitTopology;
import org.apache.flink.streaming.api.connector.sink2.SupportsPreCommitTopology;
import org.apache.flink.streaming.api.connector.sink2.SupportsPreWriteTopology;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;
import org.apache.iceberg.io.WriteResult;

/**
 * Iceberg's v2 Flink sink with its writer on a thread of its own ({@link PipelinedWriter}). Everything else — the
 * pre-write distribution, the committable aggregation, the committer and its state, maintenance — is the wrapped sink's,
 * so a pipeline's checkpoints are the same with and without it.
 *
 * @param <C> the wrapped sink's committable
 */
final class PipelinedSink<C>
        implements Sink<RowData>,
                SupportsPreWriteTopology<RowData>,
                SupportsCommitter<C>,
                SupportsPreCommitTopology<WriteResult, C>,
                SupportsPostCommitTopology<C>,
                SupportsConcurrentExecutionAttempts {
    private static final long serialVersionUID = 1L;

    private final Sink<RowData> sink;
    private final RowType rowType;
    private final String table;
    private final boolean copyRows;

    /**
     * @param sink Iceberg's sink: a {@link Sink} of rows with the pre-write, committer, pre-commit and post-commit
     *     abilities
     * @param rowType the rows the sink receives (to copy them when the runtime reuses row objects)
     * @param copyRows whether rows must be copied before the writer thread takes them when the runtime reuses
     *     objects; false when every row the sink receives is a new object
     */
    PipelinedSink(Sink<RowData> sink, RowType rowType, String table, boolean copyRows) {
        this.sink = requireNonNull(sink, "sink is null");
        this.rowType = requireNonNull(rowType, "rowType is null");
        this.table = requireNonNull(table, "table is null");
        this.copyRows = copyRows;
        if (!(sink instanceof SupportsPreWriteTopology<?>
                && sink instanceof SupportsCommitter<?>
                && sink instanceof SupportsPreCommitTopology<?, ?>
                && sink instanceof SupportsPostCommitTopology<?>)) {
            throw new IllegalArgumentException(
                    "not an Iceberg v2 sink: " + sink.getClass().getName());
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public SinkWriter<RowData> createWriter(WriterInitContext context) throws IOException {
        CommittingSinkWriter<RowData, C> writer = (CommittingSinkWriter<RowData, C>) sink.createWriter(context);
        UnaryOperator<RowData> copier;
        if (copyRows && context.isObjectReuseEnabled()) {
            copier = new RowCopy(rowType);
        } else {
            copier = UnaryOperator.identity(); // every row is the sink's own: new, or the runtime's copy
        }
        String name = "lake writer %s (%d/%d)"
                .formatted(
                        table,
                        context.getTaskInfo().getIndexOfThisSubtask() + 1,
                        context.getTaskInfo().getNumberOfParallelSubtasks());
        return new PipelinedWriter<>(writer, copier, name);
    }

    @Override
    @SuppressWarnings("unchecked")
    public DataStream<RowData> addPreWriteTopology(DataStream<RowData> input) {
        return ((SupportsPreWriteTopology<RowData>) sink).addPreWriteTopology(input);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Committer<C> createCommitter(CommitterInitContext context) throws IOException {
        return ((SupportsCommitter<C>) sink).createCommitter(context);
    }

    @Override
    @SuppressWarnings("unchecked")
    public SimpleVersionedSerializer<C> getCommittableSerializer() {
        return ((SupportsCommitter<C>) sink).getCommittableSerializer();
    }

    @Override
    @SuppressWarnings("unchecked")
    public DataStream<CommittableMessage<C>> addPreCommitTopology(DataStream<CommittableMessage<WriteResult>> results) {
        return ((SupportsPreCommitTopology<WriteResult, C>) sink).addPreCommitTopology(results);
    }

    @Override
    @SuppressWarnings("unchecked")
    public SimpleVersionedSerializer<WriteResult> getWriteResultSerializer() {
        return ((SupportsPreCommitTopology<WriteResult, C>) sink).getWriteResultSerializer();
    }

    @Override
    @SuppressWarnings("unchecked")
    public void addPostCommitTopology(DataStream<CommittableMessage<C>> committables) {
        ((SupportsPostCommitTopology<C>) sink).addPostCommitTopology(committables);
    }
}
