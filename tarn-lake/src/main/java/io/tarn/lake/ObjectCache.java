package io.tarn.lake;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.iceberg.io.FileIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local copies of a lake's files in object storage, for DuckDB (whose JDBC driver reads local files only: its S3
 * support is an extension that would be downloaded at run time). Iceberg's data and delete files never change once
 * written, so a copy fetched through the table's FileIO stays valid for as long as the file exists; copies are named
 * by a hash of their location. A query pins the copies it reads until it is done; beyond {@code maxBytes}, the copies
 * no query holds are deleted, least recently used first. The directory is emptied when the cache is made.
 */
final class ObjectCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectCache.class);
    /** Files fetched at once for one query. */
    private static final int FETCH_THREADS = 8;

    /** A file in object storage that a query reads, with the FileIO of its table. */
    record RemoteFile(FileIO io, String location, long size) {}

    private final Path directory;
    private final long maxBytes;
    private final ExecutorService fetchers;
    /** Copies by location, least recently used first; guarded by this. */
    private final Map<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

    private long bytes;

    private static final class Entry {
        final Path path;
        final long size;
        final CompletableFuture<Path> fetched = new CompletableFuture<>();
        int pins;

        Entry(Path path, long size) {
            this.path = path;
            this.size = size;
        }
    }

    /**
     * @param directory emptied now; the copies go there
     * @param maxBytes how much the copies no query holds may take together
     */
    ObjectCache(Path directory, long maxBytes) {
        this.directory = requireNonNull(directory, "directory is null").toAbsolutePath();
        this.maxBytes = maxBytes;
        Directories.deleteRecursively(this.directory);
        Directories.createOwnerOnly(this.directory);
        this.fetchers = Executors.newFixedThreadPool(FETCH_THREADS, runnable -> {
            Thread thread = new Thread(runnable, "tarn-object-fetch");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** The directory of the copies, which DuckDB must be allowed to read. */
    Path directory() {
        return directory;
    }

    /** Where the copy of a file is (or will be): a name made from its location. */
    String localPath(String location) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(location.getBytes(StandardCharsets.UTF_8));
            return directory
                    .resolve(HexFormat.of().formatHex(hash) + ".parquet")
                    .toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Copies pinned for one query; closing lets them go. */
    final class Pin implements AutoCloseable {
        private final List<Entry> pinned;
        private boolean closed;

        private Pin(List<Entry> pinned) {
            this.pinned = pinned;
        }

        @Override
        public void close() {
            synchronized (ObjectCache.this) {
                if (closed) {
                    return;
                }
                closed = true;
                pinned.forEach(e -> e.pins--);
                evict();
            }
        }
    }

    /**
     * Makes sure every file has its local copy, fetching the missing ones (several at once; a file another query is
     * fetching is waited for), and pins them until the pin is closed.
     *
     * @throws TarnException {@link ErrorCode#QUERY_FAILED} if a file cannot be fetched
     */
    Pin pin(List<RemoteFile> files) {
        List<Entry> pinned = new ArrayList<>(files.size());
        List<CompletableFuture<Path>> waits = new ArrayList<>();
        synchronized (this) {
            for (RemoteFile file : files) {
                Entry entry = entries.get(file.location());
                if (entry == null) {
                    entry = new Entry(Path.of(localPath(file.location())), file.size());
                    entries.put(file.location(), entry);
                    bytes += file.size();
                    Entry fetching = entry;
                    fetchers.execute(() -> fetch(file, fetching));
                }
                entry.pins++;
                pinned.add(entry);
                waits.add(entry.fetched);
            }
            evict();
        }
        Pin pin = new Pin(pinned);
        try {
            for (CompletableFuture<Path> wait : waits) {
                wait.get();
            }
        } catch (ExecutionException e) {
            pin.close();
            throw new TarnException(
                    ErrorCode.QUERY_FAILED,
                    "a lake file could not be fetched from object storage: " + TarnException.rootMessage(e),
                    e.getCause());
        } catch (InterruptedException e) {
            pin.close();
            Thread.currentThread().interrupt();
            throw new TarnException(ErrorCode.QUERY_FAILED, "interrupted while fetching lake files", e);
        }
        return pin;
    }

    private void fetch(RemoteFile file, Entry entry) {
        Path partial = directory.resolve(UUID.randomUUID() + ".partial");
        try {
            try (InputStream in =
                    file.io().newInputFile(file.location(), file.size()).newStream()) {
                Files.copy(in, partial);
            }
            Files.move(partial, entry.path, StandardCopyOption.ATOMIC_MOVE);
            entry.fetched.complete(entry.path);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(partial);
            synchronized (this) {
                if (entries.get(file.location()) == entry) {
                    entries.remove(file.location());
                    bytes -= entry.size;
                }
            }
            entry.fetched.completeExceptionally(e);
        }
    }

    /** Deletes the least recently used copies no query holds while the cache is over its size; guarded by this. */
    private void evict() {
        var iterator = entries.entrySet().iterator();
        while (bytes > maxBytes && iterator.hasNext()) {
            Entry entry = iterator.next().getValue();
            if (entry.pins > 0 || !entry.fetched.isDone()) {
                continue;
            }
            iterator.remove();
            bytes -= entry.size;
            deleteQuietly(entry.path);
        }
    }

    /** Bytes the copies take (those being fetched included). */
    synchronized long bytes() {
        return bytes;
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("lake file copy {} could not be deleted: {}", path.getFileName(), e.getMessage());
        }
    }

    @Override
    public void close() {
        fetchers.shutdownNow();
    }
}
