package io.tarn.compute;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.configuration.ConfigConstants;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.UnsupportedFileSystemSchemeException;
import org.apache.flink.core.plugin.DefaultPluginManager;
import org.apache.flink.core.plugin.DirectoryBasedPluginFinder;
import org.apache.flink.core.plugin.PluginConfig;
import org.apache.flink.core.plugin.PluginDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where pipelines' checkpoints and savepoints live ({@code compute.state-dir}): a local directory (the data
 * directory's by default, or an absolute one a Flink cluster's nodes share), or a prefix in S3-compatible object
 * storage ({@code s3://bucket/prefix}), which Flink reaches through its {@code s3-fs-hadoop} file system plugin. The
 * plugin is loaded from {@code FLINK_PLUGINS_DIR} (as Flink's own processes load it) in a class loader of its own, so
 * its shaded Hadoop never meets Tarn's class path; the launcher points that variable at the plugins the build copies.
 */
public final class StateStorage {
    private static final Logger LOG = LoggerFactory.getLogger(StateStorage.class);
    private static final Set<String> OBJECT_STORE_SCHEMES = Set.of("s3", "s3a");

    private StateStorage() {}

    /**
     * The root of pipelines' state, as a URI without a trailing slash.
     *
     * @param configured {@code compute.state-dir}; blank for the default directory
     * @param defaultDirectory the data directory's state directory
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} for a relative path, a local directory that cannot be
     *     created, or an object-store location that is not {@code s3://bucket[/prefix]}
     */
    public static URI root(String configured, Path defaultDirectory) {
        if (configured.isBlank()) {
            return local(defaultDirectory);
        }
        if (configured.contains("://")) {
            return objectStore(configured);
        }
        Path directory = Path.of(configured);
        if (!directory.isAbsolute()) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "compute.state-dir must be an absolute path or an s3://bucket/prefix location: a Flink cluster's"
                            + " nodes resolve it too");
        }
        return local(directory);
    }

    /** The local directory of a state root, or empty for one in object storage. */
    public static Optional<Path> localDirectory(URI root) {
        return "file".equals(root.getScheme()) ? Optional.of(Path.of(root)) : Optional.empty();
    }

    private static URI local(Path directory) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG, "compute.state-dir cannot be created: " + TarnException.rootMessage(e));
        }
        String uri = directory.toAbsolutePath().normalize().toUri().toString();
        return URI.create(uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri);
    }

    private static URI objectStore(String configured) {
        String refused = "compute.state-dir must be s3://bucket[/prefix] (no port, user, query or fragment, and no"
                + " empty, '.' or '..' segment) or an absolute path";
        URI uri;
        try {
            uri = new URI(configured);
        } catch (URISyntaxException e) {
            throw new TarnException(ErrorCode.INVALID_CONFIG, refused);
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        String prefix = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        boolean valid = uri.getScheme() != null
                && OBJECT_STORE_SCHEMES.contains(uri.getScheme())
                && uri.getHost() != null
                && uri.getRawAuthority().equals(uri.getHost())
                && uri.getRawQuery() == null
                && uri.getRawFragment() == null
                && (prefix.isEmpty()
                        || Arrays.stream(prefix.substring(1).split("/", -1))
                                .noneMatch(s -> s.isEmpty() || s.equals(".") || s.equals("..")));
        if (!valid) {
            throw new TarnException(ErrorCode.INVALID_CONFIG, refused);
        }
        return URI.create(uri.getScheme() + "://" + uri.getHost() + prefix);
    }

    /**
     * Makes Flink's file systems able to reach the state root, in this JVM (Tarn's own reads of checkpoints and
     * savepoints, and the embedded cluster's jobs): for an object store, loads the {@code s3-fs-hadoop} plugin
     * configured with {@code lake.s3.*} (unset keys leave the AWS SDK's defaults, such as its environment variables),
     * then checks that the root can be listed.
     *
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} if the plugin is not found, or
     *     {@link ErrorCode#COMPUTE_UNAVAILABLE} if the store cannot be reached
     */
    public static void initialize(URI root, TarnConfig config) {
        initialize(root, config, System.getenv(ConfigConstants.ENV_FLINK_PLUGINS_DIR));
    }

    static void initialize(URI root, TarnConfig config, String pluginsDirectory) {
        if (localDirectory(root).isPresent()) {
            return;
        }
        Configuration flink = Configuration.fromMap(flinkS3Options(config));
        Collection<PluginDescriptor> plugins = plugins(pluginsDirectory);
        String noPlugin = "compute.state-dir in object storage needs Flink's s3-fs-hadoop plugin: set FLINK_PLUGINS_DIR"
                + " to a directory holding s3-fs-hadoop/flink-s3-fs-hadoop-<version>.jar (./tarn sets it to the one"
                + " the build copies)";
        if (plugins.isEmpty()) {
            throw new TarnException(ErrorCode.INVALID_CONFIG, noPlugin);
        }
        FileSystem.initialize(
                flink,
                new DefaultPluginManager(
                        plugins, PluginConfig.fromConfiguration(flink).getAlwaysParentFirstPatterns()));
        try {
            org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(root);
            path.getFileSystem().exists(path);
        } catch (UnsupportedFileSystemSchemeException e) {
            throw new TarnException(ErrorCode.INVALID_CONFIG, noPlugin, e);
        } catch (IOException | RuntimeException e) {
            throw new TarnException(
                    ErrorCode.COMPUTE_UNAVAILABLE,
                    "compute.state-dir cannot be reached: " + TarnException.rootMessage(e),
                    e);
        }
        LOG.info("Pipelines' checkpoints and savepoints go to {}", root);
    }

    private static Collection<PluginDescriptor> plugins(String directory) {
        if (directory == null || directory.isBlank() || !Files.isDirectory(Path.of(directory))) {
            return List.of();
        }
        try {
            return new DirectoryBasedPluginFinder(Path.of(directory)).findPlugins();
        } catch (IOException e) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "Flink's plugins in FLINK_PLUGINS_DIR cannot be read: " + TarnException.rootMessage(e));
        }
    }

    /**
     * {@code lake.s3.*} as the options of Flink's S3 file system ({@code s3.*}, which it hands to Hadoop's S3A as
     * {@code fs.s3a.*}): only those set. A Flink session cluster needs the same options in its own configuration.
     */
    public static Map<String, String> flinkS3Options(TarnConfig config) {
        Map<String, String> options = new HashMap<>();
        Map.of(
                        "s3.endpoint", ConfigKeys.LAKE_S3_ENDPOINT,
                        "s3.endpoint.region", ConfigKeys.LAKE_S3_REGION,
                        "s3.access-key", ConfigKeys.LAKE_S3_ACCESS_KEY_ID,
                        "s3.secret-key", ConfigKeys.LAKE_S3_SECRET_ACCESS_KEY)
                .forEach((option, key) -> {
                    if (!config.get(key).isBlank()) {
                        options.put(option, config.get(key));
                    }
                });
        options.put(
                "s3.path.style.access",
                config.get(ConfigKeys.LAKE_S3_PATH_STYLE_ACCESS).toString());
        return options;
    }
}
