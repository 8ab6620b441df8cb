package io.tarn.compute.lake;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.table.data.RowData;

/**
 * A sink writer that runs another one — Iceberg's, which encodes rows into Parquet — on a thread of its own, so that a
 * pipeline's task thread only decodes and transforms rows while the writer thread encodes them: two cores for one
 * subtask of a landing pipeline instead of one.
 *
 * <p>Rows are handed over in batches through a bounded queue (a full queue blocks the task thread, which is Flink's
 * backpressure). Every call on the wrapped writer — writes, {@code flush}, {@code prepareCommit} — runs on the writer
 * thread in the order the task thread made it, and the task thread waits for the ones that return something, so at a
 * checkpoint barrier {@link #prepareCommit} returns only after every row written before it is in the committed files:
 * the commit protocol and its exactly-once guarantee are the wrapped writer's, unchanged. A failure of the writer thread
 * fails the next call on the task thread, and with it the task, which Flink restarts from its last checkpoint.
 *
 * @param <C> the committable the wrapped writer produces
 */
final class PipelinedWriter<C> implements CommittingSinkWriter<RowData, C> {
    static final int BATCH_ROWS = 512;
    static final int QUEUED_BATCHES = 8;
    private static final long POLL_MILLIS = 100;

    private final CommittingSinkWriter<RowData, C> writer;
    private final UnaryOperator<RowData> copier;
    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(QUEUED_BATCHES);
    private final Thread thread;
    private volatile Throwable failure;
    private volatile boolean closed;
    private List<RowData> batch = new ArrayList<>(BATCH_ROWS);

    /**
     * @param copier applied to each row before it is queued: a copy when the runtime reuses row objects, else identity
     */
    PipelinedWriter(CommittingSinkWriter<RowData, C> writer, UnaryOperator<RowData> copier, String name) {
        this.writer = requireNonNull(writer, "writer is null");
        this.copier = requireNonNull(copier, "copier is null");
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void write(RowData element, SinkWriter.Context context) throws IOException, InterruptedException {
        batch.add(copier.apply(element));
        if (batch.size() == BATCH_ROWS) {
            handOver();
        }
    }

    @Override
    public void writeWatermark(Watermark watermark) {
        // Iceberg's writer ignores watermarks; nothing to pass on
    }

    @Override
    public void flush(boolean endOfInput) throws IOException, InterruptedException {
        call(() -> {
            writer.flush(endOfInput);
            return null;
        });
    }

    @Override
    public Collection<C> prepareCommit() throws IOException, InterruptedException {
        return call(writer::prepareCommit);
    }

    @Override
    public void close() throws Exception {
        closed = true;
        thread.interrupt();
        thread.join(TimeUnit.MINUTES.toMillis(1));
        writer.close(); // the writer thread has ended (or is stuck in a call that failed the task)
    }

    /** Runs a call on the writer thread after every row written so far and returns its result. */
    private <T> T call(Callable<T> call) throws IOException, InterruptedException {
        handOver();
        CompletableFuture<T> result = new CompletableFuture<>();
        enqueue(new Task<>(call, result));
        while (true) {
            try {
                return result.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw failed(e.getCause());
            } catch (TimeoutException e) {
                checkAlive();
            }
        }
    }

    private void handOver() throws IOException, InterruptedException {
        if (!batch.isEmpty()) {
            enqueue(batch);
            batch = new ArrayList<>(BATCH_ROWS);
        }
    }

    private void enqueue(Object item) throws IOException, InterruptedException {
        while (!queue.offer(item, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
            checkAlive();
        }
        checkAlive();
    }

    private void checkAlive() throws IOException {
        Throwable cause = failure;
        if (cause != null) {
            throw failed(cause);
        }
        if (!thread.isAlive()) {
            throw new IOException("the lake writer thread " + thread.getName() + " has stopped");
        }
    }

    private static IOException failed(Throwable cause) {
        return cause instanceof IOException io ? io : new IOException("the lake writer failed: " + cause, cause);
    }

    @SuppressWarnings("unchecked")
    private void run() {
        try {
            while (!closed) {
                Object item = queue.take();
                if (item instanceof Task<?> task) {
                    task.run();
                } else {
                    for (RowData row : (List<RowData>) item) {
                        writer.write(row, NO_CONTEXT);
                    }
                }
            }
        } catch (InterruptedException e) {
            // closed
        } catch (Throwable e) {
            failure = e;
        }
    }

    /** A call on the wrapped writer; its failure is the writer's failure. */
    private record Task<T>(Callable<T> call, CompletableFuture<T> result) {
        void run() throws Exception {
            try {
                result.complete(call.call());
            } catch (Exception e) {
                result.completeExceptionally(e);
                throw e;
            }
        }
    }

    /** Iceberg's writer reads neither the record's timestamp nor the watermark. */
    private static final SinkWriter.Context NO_CONTEXT = new SinkWriter.Context() {
        @Override
        public long currentWatermark() {
            return Long.MIN_VALUE;
        }

        @Override
        public Long timestamp() {
            return null;
        }
    };
}
