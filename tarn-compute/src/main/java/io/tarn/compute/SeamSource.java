package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.lake.Seams;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.iceberg.Table;
import org.apache.iceberg.flink.TableLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A landing job's Kafka source that writes, at every checkpoint, the offsets its readers are at into the lake table's
 * seam ({@link Seams}), before the checkpoint can complete and so before the table's commit of that checkpoint. It is
 * the wrapped source in every other respect: the same enumerator, splits, state and serializers, so a pipeline's
 * checkpoints and savepoints are the same with and without it.
 *
 * @param <T> the records it produces
 * @param <S> its splits (Kafka partitions)
 * @param <E> its enumerator's checkpoint
 */
final class SeamSource<T, S extends SourceSplit, E> implements Source<T, S, E>, ResultTypeQueryable<T> {
    private static final long serialVersionUID = 1L;

    private final Source<T, S, E> source;
    private final TableLoader table;
    private final String topic;
    private final LinkedHashMap<String, String> columns;

    /**
     * @param columns per column of the lake table, the field of the topic's JSON values it is copied from
     */
    SeamSource(Source<T, S, E> source, TableLoader table, String topic, Map<String, String> columns) {
        this.source = requireNonNull(source, "source is null");
        this.table = requireNonNull(table, "table is null");
        this.topic = requireNonNull(topic, "topic is null");
        this.columns = new LinkedHashMap<>(columns);
    }

    @Override
    public Boundedness getBoundedness() {
        return source.getBoundedness();
    }

    @Override
    public SplitEnumerator<S, E> createEnumerator(SplitEnumeratorContext<S> context) throws Exception {
        return source.createEnumerator(context);
    }

    @Override
    public SplitEnumerator<S, E> restoreEnumerator(SplitEnumeratorContext<S> context, E checkpoint) throws Exception {
        return source.restoreEnumerator(context, checkpoint);
    }

    @Override
    public SimpleVersionedSerializer<S> getSplitSerializer() {
        return source.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<E> getEnumeratorCheckpointSerializer() {
        return source.getEnumeratorCheckpointSerializer();
    }

    @Override
    @SuppressWarnings("unchecked")
    public TypeInformation<T> getProducedType() {
        return ((ResultTypeQueryable<T>) source).getProducedType();
    }

    @Override
    public SourceReader<T, S> createReader(SourceReaderContext context) throws Exception {
        return new Reader<>(source.createReader(context), context, table.clone(), topic, columns);
    }

    /** The wrapped reader, which writes its splits' positions at each checkpoint. */
    private static final class Reader<T, S extends SourceSplit> implements SourceReader<T, S> {
        private static final Logger LOG = LoggerFactory.getLogger(SeamSource.class);
        /** Seams kept behind the newest completed checkpoint; a leftover of a crash is deleted as an orphan. */
        private static final long KEPT_SEAMS = 30;

        private final SourceReader<T, S> reader;
        private final SourceReaderContext context;
        private final TableLoader loader;
        private final String topic;
        private final Map<String, String> columns;
        private final String jobId;
        /** Checkpoints this subtask wrote seams for, oldest first; older ones than the newest few are deleted. */
        private final Deque<Long> written = new ArrayDeque<>();

        private Table table;

        Reader(
                SourceReader<T, S> reader,
                SourceReaderContext context,
                TableLoader loader,
                String topic,
                Map<String, String> columns) {
            this.reader = reader;
            this.context = context;
            this.loader = loader;
            this.topic = topic;
            this.columns = columns;
            // Iceberg's committer writes the same id into the summary of each snapshot it commits
            this.jobId = context.metricGroup().getAllVariables().get("<job_id>");
        }

        @Override
        public void start() {
            reader.start();
        }

        @Override
        public InputStatus pollNext(ReaderOutput<T> output) throws Exception {
            return reader.pollNext(output);
        }

        @Override
        public List<S> snapshotState(long checkpointId) {
            List<S> splits = reader.snapshotState(checkpointId);
            Map<Integer, Long> offsets = new HashMap<>();
            for (S split : splits) {
                if (!(split instanceof KafkaPartitionSplit kafka)
                        || !kafka.getTopic().equals(topic)) {
                    return splits; // not a landing of one topic: no seam, and fresh reads say so
                }
                if (kafka.getStartingOffset() >= 0) {
                    offsets.put(kafka.getPartition(), kafka.getStartingOffset());
                } else if (kafka.getStartingOffset() != KafkaPartitionSplit.EARLIEST_OFFSET) {
                    return splits; // a position not known as an offset yet: no seam for this checkpoint
                } // not read yet, from the earliest offset: nothing of it is in the table
            }
            if (jobId == null) {
                return splits;
            }
            Table lake = table();
            Seams.write(
                    lake.io(),
                    Seams.location(lake.location(), jobId, checkpointId, context.getIndexOfSubtask()),
                    new Seams.Seam(topic, context.currentParallelism(), offsets, columns));
            written.addLast(checkpointId);
            return splits;
        }

        private Table table() {
            if (table == null) {
                loader.open();
                table = loader.loadTable();
            }
            return table;
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return reader.isAvailable();
        }

        @Override
        public void addSplits(List<S> splits) {
            reader.addSplits(splits);
        }

        @Override
        public void notifyNoMoreSplits() {
            reader.notifyNoMoreSplits();
        }

        @Override
        public void handleSourceEvents(SourceEvent event) {
            reader.handleSourceEvents(event);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) throws Exception {
            reader.notifyCheckpointComplete(checkpointId);
            // the table's snapshot is at most ~10 checkpoints behind (Iceberg's committer skips up to 10 empty ones)
            while (!written.isEmpty() && written.peekFirst() < checkpointId - KEPT_SEAMS) {
                long old = written.pollFirst();
                Table lake = table();
                lake.io().deleteFile(Seams.location(lake.location(), jobId, old, context.getIndexOfSubtask()));
            }
        }

        @Override
        public void notifyCheckpointAborted(long checkpointId) throws Exception {
            reader.notifyCheckpointAborted(checkpointId);
        }

        @Override
        public void pauseOrResumeSplits(Collection<String> paused, Collection<String> resumed) {
            reader.pauseOrResumeSplits(paused, resumed);
        }

        @Override
        public void close() throws Exception {
            try {
                reader.close();
            } finally {
                try {
                    loader.close();
                } catch (IOException e) {
                    LOG.debug("A lake table loader did not close cleanly", e);
                }
            }
        }
    }
}
