package io.tarn.compute.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.RowDataSerializer;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.RowType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The threading contract of {@link PipelinedWriter}, with a writer that records what it was asked and where. */
@Timeout(60)
class PipelinedWriterTest {
    /** Collects ids and commits their sum, remembering which threads called it. */
    static final class Recording implements CommittingSinkWriter<RowData, Long> {
        final List<Long> ids = new ArrayList<>();
        final Set<String> threads = new HashSet<>();
        long failAt = -1;
        boolean closed;
        private long sum;

        @Override
        public void write(RowData row, Context context) throws IOException {
            threads.add(Thread.currentThread().getName());
            if (row.getLong(0) == failAt) {
                throw new IOException("disk full at row " + failAt);
            }
            ids.add(row.getLong(0));
            sum += row.getLong(0);
        }

        @Override
        public void flush(boolean endOfInput) {
            threads.add(Thread.currentThread().getName());
        }

        @Override
        public Collection<Long> prepareCommit() {
            threads.add(Thread.currentThread().getName());
            long committed = sum;
            sum = 0;
            return List.of(committed);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    static RowData row(long id) {
        return GenericRowData.of(id);
    }

    @Test
    void everyRowWrittenBeforeACommitIsInItInOrderAndOnTheWriterThread() throws Exception {
        Recording recording = new Recording();
        PipelinedWriter<Long> writer = new PipelinedWriter<>(recording, UnaryOperator.identity(), "writer-under-test");
        int first = PipelinedWriter.BATCH_ROWS * PipelinedWriter.QUEUED_BATCHES * 5 + 7; // queue fills, a partial batch
        for (long id = 0; id < first; id++) {
            writer.write(row(id), null);
        }
        writer.flush(false);
        assertThat(writer.prepareCommit()).containsExactly((long) first * (first - 1) / 2);
        for (long id = first; id < first + 3; id++) {
            writer.write(row(id), null);
        }
        assertThat(writer.prepareCommit()).containsExactly(3L * first + 3);
        assertThat(writer.prepareCommit()).containsExactly(0L);
        writer.close();

        assertThat(recording.ids).hasSize(first + 3);
        for (int i = 0; i < recording.ids.size(); i++) {
            assertThat(recording.ids.get(i)).isEqualTo(i);
        }
        assertThat(recording.threads).containsExactly("writer-under-test");
        assertThat(recording.closed).isTrue();
    }

    @Test
    void aFailedWriterFailsTheTaskThreadInsteadOfBlockingIt() throws Exception {
        Recording recording = new Recording();
        recording.failAt = 700;
        PipelinedWriter<Long> writer = new PipelinedWriter<>(recording, UnaryOperator.identity(), "failing-writer");
        // far more rows than the queue holds: without the failure check this would block forever
        assertThatThrownBy(() -> {
                    for (long id = 0; id < 1_000_000; id++) {
                        writer.write(row(id), null);
                    }
                })
                .isInstanceOf(IOException.class)
                .hasMessage("disk full at row 700");
        assertThatThrownBy(writer::prepareCommit)
                .isInstanceOf(IOException.class)
                .hasMessage("disk full at row 700");
        writer.close();
        assertThat(recording.ids).hasSize(700);
        assertThat(recording.closed).isTrue();
    }

    @Test
    void reusedRowsAreCopiedBeforeTheyAreHandedOver() throws Exception {
        Recording recording = new Recording();
        RowDataSerializer serializer = new RowDataSerializer(RowType.of(new BigIntType()));
        PipelinedWriter<Long> writer = new PipelinedWriter<>(recording, serializer::copy, "copying-writer");
        GenericRowData reused = new GenericRowData(1);
        for (long id = 0; id < 2_000; id++) {
            reused.setField(0, id); // as an upstream operator that reuses its output row would
            writer.write(reused, null);
        }
        assertThat(writer.prepareCommit()).containsExactly(1_999_000L);
        writer.close();
        assertThat(new HashSet<>(recording.ids)).hasSize(2_000);
    }
}
