package io.tarn.lake;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.hadoop.HadoopFileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;

/**
 * Iceberg's {@link HadoopFileIO} for local paths, confined to the warehouse: it reads, writes, lists and deletes files
 * under the catalog's {@code warehouse} directory and refuses every other path. Table metadata is written by clients
 * of the Iceberg REST catalog too, and a table's metadata names its own files: confined, a table whose metadata names a
 * file elsewhere (its location, a data file, a manifest) can make Tarn neither read it, nor overwrite it, nor delete it
 * when the table is maintained or purged.
 */
public class WarehouseFileIO extends HadoopFileIO {
    /** The catalog property naming directories besides the warehouse that tables may use, comma-separated. */
    public static final String EXTRA_LOCATIONS = "tarn.extra-locations";

    private static final long serialVersionUID = 1L;

    /** The directories it may use, as normalised absolute paths (text: a FileIO travels with Flink jobs). */
    private List<String> roots = List.of();

    @Override
    public void initialize(Map<String, String> properties) {
        super.initialize(properties);
        String warehouse = properties.get(CatalogProperties.WAREHOUSE_LOCATION);
        if (warehouse == null || warehouse.isBlank()) {
            throw new IllegalArgumentException("a warehouse-confined FileIO needs the catalog's warehouse location");
        }
        List<String> allowed = new ArrayList<>();
        allowed.add(requireLocal(warehouse));
        for (String extra : properties.getOrDefault(EXTRA_LOCATIONS, "").split(",")) {
            if (!extra.isBlank()) {
                allowed.add(requireLocal(extra.strip()));
            }
        }
        roots = List.copyOf(allowed);
    }

    private static String requireLocal(String location) {
        Path path = localPath(location);
        if (path == null || path.getParent() == null) {
            throw new IllegalArgumentException("not a local directory below the root: " + location);
        }
        return path.toString();
    }

    @Override
    public InputFile newInputFile(String path) {
        return super.newInputFile(confined(path));
    }

    @Override
    public InputFile newInputFile(String path, long length) {
        return super.newInputFile(confined(path), length);
    }

    @Override
    public OutputFile newOutputFile(String path) {
        return super.newOutputFile(confined(path));
    }

    @Override
    public void deleteFile(String path) {
        super.deleteFile(confined(path));
    }

    @Override
    public void deleteFiles(Iterable<String> paths) {
        paths.forEach(this::confined);
        super.deleteFiles(paths);
    }

    @Override
    public Iterable<FileInfo> listPrefix(String prefix) {
        return super.listPrefix(confined(prefix));
    }

    @Override
    public void deletePrefix(String prefix) {
        super.deletePrefix(confined(prefix));
    }

    /**
     * The path, if it is in the warehouse.
     *
     * @throws ForbiddenException for a path outside it (or one that is not a local absolute path)
     */
    private String confined(String location) {
        Path path = localPath(location);
        if (path != null
                && roots.stream()
                        .anyMatch(root ->
                                path.startsWith(root) && !path.toString().equals(root))) {
            return location;
        }
        throw new ForbiddenException(
                "path %s is outside the lake's warehouse (and lake.extra-locations); Tarn reads and writes table files"
                        + " only there",
                location);
    }

    /** A location ({@code /p}, {@code file:/p}, {@code file:///p}) as a normalised absolute path; null otherwise. */
    static Path localPath(String location) {
        try {
            String path = location;
            if (location.startsWith("file:")) {
                path = URI.create(location).getPath();
            } else if (location.matches("[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
                return null; // another file system's (s3:, hdfs:, …)
            }
            if (path == null) {
                return null;
            }
            Path normalized = Path.of(path).normalize();
            return normalized.isAbsolute() ? normalized : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
