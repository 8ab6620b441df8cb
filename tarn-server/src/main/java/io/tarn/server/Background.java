package io.tarn.server;

import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tarn's background work on one scheduler: resuming pipelines and sources after a start, watching storage, pipelines'
 * counters and topics, pruning checkpoints, expiring snapshots. Each task has a name; its failure is one warning line
 * and the task runs again at its next time. Four threads, so that long tasks (resuming many pipelines, expiring the
 * snapshots of a large table) do not hold up the storage watch.
 */
final class Background implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Background.class);

    private final ScheduledThreadPoolExecutor executor;

    Background() {
        AtomicInteger counter = new AtomicInteger();
        executor = new ScheduledThreadPoolExecutor(4, r -> {
            Thread thread = new Thread(r, "tarn-background-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * Runs a task once, now.
     *
     * @param what what it does, for the warning if it fails ("Resuming pipelines")
     */
    void now(String what, Runnable task) {
        executor.execute(() -> run(what, task));
    }

    /** Runs a task every {@code period}, the first time one period from now. */
    void every(Duration period, String what, Runnable task) {
        long millis = period.toMillis();
        executor.scheduleWithFixedDelay(() -> run(what, task), millis, millis, TimeUnit.MILLISECONDS);
    }

    private static void run(String what, Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.warn("{} failed: {}", what, e.getMessage());
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
