package io.tarn.lake;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/**
 * How big the files of a table's current snapshot are: its data and delete files counted in size classes (up to 1, 8,
 * 32, 128, 512 MiB, larger), read from its manifests. Many small files are what compaction merges.
 *
 * @param snapshotId the snapshot counted, -1 for a table without one
 * @param buckets each size class, smallest first; the last has no upper bound ({@code upToBytes} -1)
 */
public record FileSizes(long snapshotId, List<Bucket> buckets) {
    static final long[] BOUNDS = {1L << 20, 8L << 20, 32L << 20, 128L << 20, 512L << 20, -1};

    /** One size class: files of at most {@code upToBytes} (and more than the class below), and their bytes. */
    public record Bucket(long upToBytes, long dataFiles, long deleteFiles, long bytes) {}

    /**
     * Counts the files of a table's current snapshot.
     *
     * @throws TarnException {@link ErrorCode#CATALOG_UNAVAILABLE} if a manifest cannot be read
     */
    public static FileSizes of(Table table) {
        long[] data = new long[BOUNDS.length];
        long[] deletes = new long[BOUNDS.length];
        long[] bytes = new long[BOUNDS.length];
        Snapshot current = table.currentSnapshot();
        if (current != null) {
            try {
                for (ManifestFile manifest : current.dataManifests(table.io())) {
                    try (ManifestReader<?> reader = ManifestFiles.read(manifest, table.io(), table.specs())) {
                        count(reader, data, bytes);
                    }
                }
                for (ManifestFile manifest : current.deleteManifests(table.io())) {
                    try (ManifestReader<?> reader =
                            ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
                        count(reader, deletes, bytes);
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                throw new TarnException(
                        ErrorCode.CATALOG_UNAVAILABLE,
                        "the manifests of table %s could not be read: %s"
                                .formatted(table.name(), TarnException.rootMessage(e)),
                        e);
            }
        }
        List<Bucket> buckets = new ArrayList<>();
        for (int i = 0; i < BOUNDS.length; i++) {
            buckets.add(new Bucket(BOUNDS[i], data[i], deletes[i], bytes[i]));
        }
        return new FileSizes(current == null ? -1 : current.snapshotId(), buckets);
    }

    /** Adds the live files of a manifest (its entries' own iteration skips the deleted ones). */
    private static void count(ManifestReader<?> reader, long[] files, long[] bytes) {
        for (ContentFile<?> file : reader) {
            int bucket = bucket(file.fileSizeInBytes());
            files[bucket]++;
            bytes[bucket] += file.fileSizeInBytes();
        }
    }

    static int bucket(long size) {
        for (int i = 0; i < BOUNDS.length - 1; i++) {
            if (size <= BOUNDS[i]) {
                return i;
            }
        }
        return BOUNDS.length - 1;
    }
}
