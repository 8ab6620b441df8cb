package io.tarn.server.storage;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a reserve of free space on the file systems Tarn writes to (the data directory with the log, and a local
 * warehouse), so that Tarn stops accepting data before a write fails for lack of space: a Kafka broker whose only log
 * directory fails halts its process, and a pipeline whose writes fail restart-loops into FAILED.
 *
 * <p>{@link #check()} runs every second. While a file system has less than the reserve free, or is read-only, ingest
 * is refused with {@link ErrorCode#STORAGE_FULL} (HTTP 503, retryable) before anything is written, and listeners are
 * told so that pipelines pause; once free space is back above the reserve plus a margin, they are told again.
 */
public final class StorageGuard {
    private static final Logger LOG = LoggerFactory.getLogger(StorageGuard.class);
    private static final long MiB = 1024 * 1024;

    private final Map<FileStore, String> stores;
    private final long minFreeBytes;
    private final long margin;
    private final List<Consumer<Optional<String>>> listeners = new CopyOnWriteArrayList<>();
    private volatile Optional<String> problem = Optional.empty();

    /**
     * @param directories what each directory is, for messages (never its path), to the directory
     * @param minFreeBytes the reserve; 0 turns the guard off
     */
    public StorageGuard(Map<String, Path> directories, long minFreeBytes) {
        this.minFreeBytes = minFreeBytes;
        this.margin = Math.min(64 * MiB, Math.max(minFreeBytes / 10, 1));
        this.stores = new LinkedHashMap<>();
        directories.forEach((label, directory) -> {
            try {
                stores.putIfAbsent(Files.getFileStore(directory), label);
            } catch (IOException e) {
                throw new TarnException(
                        ErrorCode.INVALID_CONFIG,
                        "the file system of the %s cannot be inspected: %s".formatted(label, e.getMessage()),
                        e);
            }
        });
        check();
    }

    /** Called with the problem when the guard trips and with empty when space is back. */
    public void onChange(Consumer<Optional<String>> listener) {
        listeners.add(requireNonNull(listener, "listener is null"));
    }

    /** Looks at every file system now and tells listeners if the verdict changed. */
    public synchronized void check() {
        if (minFreeBytes == 0) {
            return;
        }
        boolean full = problem.isPresent();
        List<String> problems = new ArrayList<>();
        stores.forEach((store, label) -> {
            try {
                long free = store.getUsableSpace();
                if (store.isReadOnly()) {
                    problems.add("the file system of the %s is read-only".formatted(label));
                } else if (free < minFreeBytes + (full ? margin : 0)) {
                    problems.add("the file system of the %s has %d MiB free, less than storage.min-free-bytes (%d MiB)"
                            .formatted(label, free / MiB, minFreeBytes / MiB));
                }
            } catch (IOException e) {
                problems.add("the file system of the %s cannot be inspected: %s".formatted(label, e.getMessage()));
            }
        });
        Optional<String> now = problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
        if (now.isPresent() != full) {
            if (now.isPresent()) {
                LOG.warn("Storage low, refusing ingest and pausing pipelines: {}", now.get());
            } else {
                LOG.info("Storage back above the reserve, accepting ingest and resuming pipelines");
            }
            problem = now;
            for (Consumer<Optional<String>> listener : listeners) {
                try {
                    listener.accept(now);
                } catch (RuntimeException e) {
                    LOG.error("Storage listener failed: {}", e.getMessage(), e);
                }
            }
        } else {
            problem = now;
        }
    }

    /** Why Tarn does not accept data now, if it does not. */
    public Optional<String> problem() {
        return problem;
    }

    /**
     * @throws TarnException {@link ErrorCode#STORAGE_FULL} while storage is below the reserve
     */
    public void requireSpace() {
        Optional<String> current = problem;
        if (current.isPresent()) {
            throw new TarnException(
                    ErrorCode.STORAGE_FULL,
                    current.get() + "; nothing of this request was written, retry once space is freed");
        }
    }
}
