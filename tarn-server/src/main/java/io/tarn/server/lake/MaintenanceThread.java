package io.tarn.server.lake;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread lake maintenance runs on, at a lower CPU priority than ingest and queries: on Linux its nice value is
 * raised (nice 19 by default), so that while the machine is busy the scheduler gives compaction only what ingest leaves
 * (about 1.5 % of a contended core at 19), and on an idle machine all it asks for. DuckDB's worker threads, started
 * from this thread, inherit the value. Where the thread's id cannot be found ({@code /proc/thread-self}) or
 * {@code renice} refuses, it runs at normal priority and says so in one line.
 */
final class MaintenanceThread implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MaintenanceThread.class);

    private final ExecutorService executor;

    /** @param nice the nice value the thread takes (0 leaves it as it is) */
    MaintenanceThread(int nice) {
        executor = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(
                    () -> {
                        if (nice > 0) {
                            lowerPriority(nice);
                        }
                        task.run();
                    },
                    "tarn-maintenance");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Runs a task on the thread and waits for it.
     *
     * @throws TarnException {@link ErrorCode#MAINTENANCE_FAILED} when the caller is interrupted (so is the task)
     */
    <T> T call(Callable<T> task) {
        Future<T> future = executor.submit(task);
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new TarnException(ErrorCode.MAINTENANCE_FAILED, "interrupted while lake maintenance ran", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** The nice value of the calling thread, where Linux tells it. */
    static OptionalInt niceOfThisThread() {
        try {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            // the fields after the command, which is in parentheses and may hold spaces: state is field 3, nice 19
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return OptionalInt.of(Integer.parseInt(fields[19 - 3]));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    private static void lowerPriority(int nice) {
        Path self = Path.of("/proc/thread-self");
        if (!Files.exists(self)) {
            LOG.info("Lake maintenance runs at normal CPU priority: this system does not name its threads in /proc");
            return;
        }
        try {
            String thread = Files.readSymbolicLink(self).getFileName().toString();
            Process renice = new ProcessBuilder("renice", "-n", Integer.toString(nice), "-p", thread)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!renice.waitFor(10, TimeUnit.SECONDS)) {
                renice.destroyForcibly();
            }
            if (niceOfThisThread().orElse(0) < nice) {
                LOG.info("Lake maintenance runs at normal CPU priority: renice did not lower it to nice {}", nice);
            }
        } catch (IOException e) {
            LOG.info("Lake maintenance runs at normal CPU priority: renice cannot run ({})", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the thread, interrupting a run. */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
