package io.tarn.lake;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionStatisticsFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StatisticsFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a lake table's metadata small and its directory free of files no snapshot needs: manifests rewritten when
 * commits have left many small ones, old {@code metadata.json} versions deleted as commits happen, and orphan files —
 * written but never committed (a crashed writer, a rewrite that lost a conflict) or left behind — removed once they are
 * older than a safety window.
 */
public final class TableCleanup {
    private static final Logger LOG = LoggerFactory.getLogger(TableCleanup.class);

    private TableCleanup() {}

    /**
     * Makes commits delete {@code metadata.json} versions beyond the newest {@code versionsKept}
     * ({@code write.metadata.delete-after-commit.enabled}), unless the table already says how.
     *
     * @return whether the table's properties changed
     */
    public static boolean keepMetadataVersions(Table table, int versionsKept) {
        Map<String, String> properties = table.properties();
        if (properties.containsKey(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED)) {
            return false;
        }
        table.updateProperties()
                .set(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true")
                .set(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, Integer.toString(versionsKept))
                .commit();
        return true;
    }

    /**
     * Rewrites the current snapshot's data manifests into manifests of Iceberg's target size
     * ({@code commit.manifest.target-size-bytes}), one set per partition spec, when there are more than a few beyond
     * what their size needs.
     *
     * @return manifests replaced; 0 when there was no need, or when a concurrent commit conflicted (next time)
     */
    public static int rewriteManifests(String name, Table table) {
        table.refresh();
        Snapshot current = table.currentSnapshot();
        if (current == null) {
            return 0;
        }
        List<ManifestFile> manifests = current.dataManifests(table.io());
        long bytes = manifests.stream().mapToLong(ManifestFile::length).sum();
        long target = Long.parseLong(table.properties()
                .getOrDefault(
                        TableProperties.MANIFEST_TARGET_SIZE_BYTES,
                        Long.toString(TableProperties.MANIFEST_TARGET_SIZE_BYTES_DEFAULT)));
        long needed = table.specs().size() + (bytes + target - 1) / target;
        if (manifests.size() <= needed + 3) {
            return 0;
        }
        try {
            table.rewriteManifests()
                    .clusterBy(file -> file.specId())
                    .set(Compaction.SUMMARY_KEY, "manifests")
                    .commit();
        } catch (ValidationException | CommitFailedException e) {
            LOG.info("Rewriting the manifests of lake table {} waits for the next run: {}", name, e.getMessage());
            return 0;
        }
        LOG.info("Rewrote {} manifests of lake table {}", manifests.size(), name);
        return manifests.size();
    }

    /**
     * What an orphan removal found.
     *
     * @param filesDeleted files no snapshot or metadata version references that were older than the window
     * @param bytesDeleted their size
     * @param filesKept unreferenced files younger than the window (possibly an in-flight commit's)
     */
    public record Orphans(int filesDeleted, long bytesDeleted, int filesKept) {}

    /**
     * Deletes the files under the table's location that neither a snapshot (its manifest list, manifests, data and
     * delete files, statistics) nor a kept metadata version references, if they were last modified before {@code
     * olderThan}. Files of a commit in flight are unreferenced until it lands: the window must be longer than any
     * writer takes from writing a file to committing it, and a writer that may resume with files it has not committed
     * yet (a stopped or failed pipeline's last checkpoint) must be waited for by the caller.
     *
     * @throws UncheckedIOException when the table's directory cannot be listed
     */
    public static Orphans removeOrphans(String name, Table table, Instant olderThan) {
        requireNonNull(olderThan, "olderThan is null");
        table.refresh();
        Set<Path> referenced = referencedFiles(table);
        // the seam a fresh read of the current snapshot needs; older seams are orphans like any unreferenced file
        Optional<String> seam = Seams.currentPrefix(table);
        List<Listed> orphans = new ArrayList<>();
        int kept = 0;
        long bytes = 0;
        for (Listed file : list(name, table)) {
            if (referenced.contains(file.key())
                    || seam.filter(file.location()::startsWith).isPresent()) {
                continue;
            }
            if (file.modified().isBefore(olderThan)) {
                orphans.add(file);
                bytes += file.size();
            } else {
                kept++;
            }
        }
        for (Listed orphan : orphans) {
            table.io().deleteFile(orphan.location());
        }
        if (!orphans.isEmpty()) {
            LOG.info("Removed {} orphan files ({} MiB) of lake table {}", orphans.size(), bytes >> 20, name);
        }
        return new Orphans(orphans.size(), bytes, kept);
    }

    /**
     * A file under a table's location.
     *
     * @param key the file as {@link #referencedFiles} names files
     * @param location where its FileIO finds it
     */
    private record Listed(Path key, String location, long size, Instant modified) {}

    /**
     * The files under a table's location: in an object store, as its FileIO lists the location's prefix; on a local
     * file system, every regular file but Hadoop's checksums beside others.
     *
     * @throws UncheckedIOException when the location cannot be listed
     */
    private static List<Listed> list(String name, Table table) {
        List<Listed> files = new ArrayList<>();
        String objects = WarehouseFileIO.objectLocation(table.location());
        if (objects != null && table.io() instanceof SupportsPrefixOperations prefixes) {
            for (FileInfo info : prefixes.listPrefix(objects.endsWith("/") ? objects : objects + "/")) {
                files.add(new Listed(
                        Path.of(TablePlan.localPath(info.location())),
                        info.location(),
                        info.size(),
                        Instant.ofEpochMilli(info.createdAtMillis())));
            }
            return files;
        }
        try (Stream<Path> paths = Files.walk(Path.of(TablePlan.localPath(table.location())))) {
            for (Path file : (Iterable<Path>) paths::iterator) {
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                if (attributes.isRegularFile() && !isChecksumOfAnother(file)) {
                    files.add(new Listed(
                            file,
                            file.toString(),
                            attributes.size(),
                            attributes.lastModifiedTime().toInstant()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("lake table '%s' could not be listed".formatted(name), e);
        }
        return files;
    }

    /**
     * Whether a file is the checksum Hadoop's local file system writes beside another file ({@code .name.crc} beside
     * {@code name}): it is kept or deleted with that file.
     */
    private static boolean isChecksumOfAnother(Path file) {
        String name = file.getFileName().toString();
        return name.startsWith(".")
                && name.endsWith(".crc")
                && Files.exists(file.resolveSibling(name.substring(1, name.length() - ".crc".length())));
    }

    /** Every file a snapshot or a kept metadata version of the table references, as local paths. */
    public static Set<Path> referencedFiles(Table table) {
        TableMetadata metadata = ((HasTableOperations) table).operations().current();
        Set<String> locations = new HashSet<>();
        locations.add(metadata.metadataFileLocation());
        metadata.previousFiles().forEach(entry -> locations.add(entry.file()));
        metadata.statisticsFiles().stream().map(StatisticsFile::path).forEach(locations::add);
        metadata.partitionStatisticsFiles().stream()
                .map(PartitionStatisticsFile::path)
                .forEach(locations::add);
        Set<String> manifestsRead = new HashSet<>();
        for (Snapshot snapshot : metadata.snapshots()) {
            if (snapshot.manifestListLocation() != null) {
                locations.add(snapshot.manifestListLocation());
            }
            for (ManifestFile manifest : snapshot.allManifests(table.io())) {
                locations.add(manifest.path());
                if (manifestsRead.add(manifest.path())) {
                    readFiles(table, manifest).forEach(locations::add);
                }
            }
        }
        Set<Path> paths = new HashSet<>();
        locations.forEach(location -> paths.add(Path.of(TablePlan.localPath(location))));
        return paths;
    }

    /**
     * Data or delete files a manifest lists as live. A file a snapshot deleted is live in its parent's manifests while
     * that snapshot is kept, and is deleted with the parent when the parent expires.
     */
    private static List<String> readFiles(Table table, ManifestFile manifest) {
        List<String> files = new ArrayList<>();
        try (ManifestReader<? extends ContentFile<?>> reader = manifest.content() == ManifestContent.DATA
                ? ManifestFiles.read(manifest, table.io(), table.specs())
                : ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
            reader.forEach(file -> files.add(file.location()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }
}
