package io.tarn.lake;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.ResolvingFileIO;

/**
 * Iceberg's {@link ResolvingFileIO} (its {@code HadoopFileIO} for local paths, {@code S3FileIO} for {@code s3://}),
 * confined to the warehouse: it reads, writes, lists and deletes files under the catalog's {@code warehouse} (a local
 * directory or an object store prefix) and refuses every other location. Table metadata is written by clients
 * of the Iceberg REST catalog too, and a table's metadata names its own files: confined, a table whose metadata names a
 * file elsewhere (its location, a data file, a manifest) can make Tarn neither read it, nor overwrite it, nor delete it
 * when the table is maintained or purged.
 */
public class WarehouseFileIO extends ResolvingFileIO {
    /** The catalog property naming directories besides the warehouse that tables may use, comma-separated. */
    public static final String EXTRA_LOCATIONS = "tarn.extra-locations";

    private static final long serialVersionUID = 1L;

    /**
     * The directories it may use, as normalised absolute paths, and the object store prefixes, as {@link
     * #objectLocation} gives them (text: a FileIO travels with Flink jobs).
     */
    private List<String> roots = List.of();

    @Override
    public void initialize(Map<String, String> properties) {
        super.initialize(properties);
        String warehouse = properties.get(CatalogProperties.WAREHOUSE_LOCATION);
        if (warehouse == null || warehouse.isBlank()) {
            throw new IllegalArgumentException("a warehouse-confined FileIO needs the catalog's warehouse location");
        }
        List<String> allowed = new ArrayList<>();
        allowed.add(root(warehouse));
        for (String extra : properties.getOrDefault(EXTRA_LOCATIONS, "").split(",")) {
            if (!extra.isBlank()) {
                allowed.add(root(extra.strip()));
            }
        }
        roots = List.copyOf(allowed);
    }

    /** A place files may be in: a local directory below the root, or a prefix of a bucket. */
    private static String root(String location) {
        String object = objectLocation(location);
        if (object != null) {
            return object.endsWith("/") ? object.substring(0, object.length() - 1) : object;
        }
        Path path = localPath(location);
        if (path == null || path.getParent() == null) {
            throw new IllegalArgumentException(
                    "not a local directory below the root, nor an s3:// location: " + location);
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
        String object = objectLocation(location);
        if (object != null && roots.stream().anyMatch(root -> object.startsWith(root + "/"))) {
            return location;
        }
        Path path = object == null ? localPath(location) : null;
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

    /** Whether a location is in an object store ({@code s3://}, {@code s3a://}, {@code s3n://}), not a local path. */
    public static boolean isObjectStore(String location) {
        return objectLocation(location) != null;
    }

    /**
     * An object store location ({@code s3://bucket/key}, also {@code s3a://} and {@code s3n://}, which Iceberg's S3
     * FileIO reads alike) as {@code s3://bucket/key}; null for another kind of location, and for a key with {@code .}
     * or {@code ..} segments or empty ones, which object stores keep as they are but paths would resolve.
     */
    static String objectLocation(String location) {
        int scheme = location.indexOf("://");
        if (scheme < 0 || !List.of("s3", "s3a", "s3n").contains(location.substring(0, scheme))) {
            return null;
        }
        String rest = location.substring(scheme + 3);
        for (String segment : rest.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                return null;
            }
        }
        if (rest.isEmpty() || rest.startsWith("/") || rest.contains("//")) {
            return null;
        }
        return "s3://" + rest;
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
