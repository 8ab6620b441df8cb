package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.inmemory.InMemoryFileIO;
import org.apache.iceberg.io.InputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Copies of object-storage files: fetched once, kept while pinned, evicted least recently used beyond the size. */
class ObjectCacheTest {
    @TempDir
    Path dir;

    /** An in-memory object store that counts the files opened for reading. */
    private static final class CountingIo extends InMemoryFileIO {
        final AtomicInteger reads = new AtomicInteger();

        @Override
        public InputFile newInputFile(String location, long length) {
            reads.incrementAndGet();
            return super.newInputFile(location, length);
        }
    }

    @Test
    void copiesAreFetchedOnceKeptWhilePinnedAndEvictedLeastRecentlyUsedFirst() throws Exception {
        CountingIo io = new CountingIo();
        ObjectCache.RemoteFile a = put(io, "s3://b/w/a.parquet", "aaaaaaaa");
        ObjectCache.RemoteFile b = put(io, "s3://b/w/b.parquet", "bbbbbbbb");
        try (ObjectCache cache = new ObjectCache(dir.resolve("objects"), 10)) {
            ObjectCache.Pin pinA = cache.pin(List.of(a));
            ObjectCache.Pin pinB = cache.pin(List.of(b));
            assertThat(Files.readString(Path.of(cache.localPath(a.location())))).isEqualTo("aaaaaaaa");
            assertThat(cache.bytes()).as("both pinned, over the size").isEqualTo(16);

            pinA.close();
            assertThat(Path.of(cache.localPath(a.location()))).doesNotExist();
            assertThat(cache.bytes()).isEqualTo(8);
            pinB.close();
            assertThat(Path.of(cache.localPath(b.location()))).exists();

            cache.pin(List.of(b)).close();
            assertThat(io.reads.get()).as("b read again from its copy").isEqualTo(2);
            cache.pin(List.of(a)).close();
            assertThat(io.reads.get()).as("a fetched again").isEqualTo(3);
            assertThat(Path.of(cache.localPath(b.location())))
                    .as("b, least recently used, made room")
                    .doesNotExist();
        }
    }

    @Test
    void queriesPinningOneFileAtOnceFetchItOnce() throws Exception {
        CountingIo io = new CountingIo();
        ObjectCache.RemoteFile file = put(io, "s3://b/w/c.parquet", "c".repeat(100_000));
        try (ObjectCache cache = new ObjectCache(dir.resolve("objects"), 1L << 20)) {
            ExecutorService queries = Executors.newFixedThreadPool(8);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<ObjectCache.Pin>> pins = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                pins.add(queries.submit(() -> {
                    start.await();
                    return cache.pin(List.of(file));
                }));
            }
            start.countDown();
            for (Future<ObjectCache.Pin> pin : pins) {
                pin.get().close();
            }
            queries.shutdown();
            assertThat(io.reads.get()).isEqualTo(1);
            assertThat(Files.size(Path.of(cache.localPath(file.location())))).isEqualTo(100_000);
        }
    }

    @Test
    void aFileThatCannotBeFetchedFailsTheQueryAndIsTriedAgainByTheNext() throws Exception {
        CountingIo io = new CountingIo();
        ObjectCache.RemoteFile missing = new ObjectCache.RemoteFile(io, "s3://b/w/missing.parquet", 8);
        try (ObjectCache cache = new ObjectCache(dir.resolve("objects"), 1L << 20)) {
            for (int attempt = 1; attempt <= 2; attempt++) {
                assertThatThrownBy(() -> cache.pin(List.of(missing)))
                        .isInstanceOfSatisfying(
                                TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.QUERY_FAILED))
                        .hasMessageStartingWith("a lake file could not be fetched from object storage: ");
                assertThat(io.reads.get()).isEqualTo(attempt);
                assertThat(cache.bytes()).isZero();
            }
            try (var files = Files.list(dir.resolve("objects"))) {
                assertThat(files).as("no partial copy left").isEmpty();
            }
        }
    }

    private static ObjectCache.RemoteFile put(InMemoryFileIO io, String location, String content) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        io.addFile(location, bytes);
        return new ObjectCache.RemoteFile(io, location, bytes.length);
    }
}
