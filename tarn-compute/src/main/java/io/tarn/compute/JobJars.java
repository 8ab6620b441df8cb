package io.tarn.compute;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.lake.LakeCatalog;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

/**
 * The jars a job needs on a Flink session cluster besides Flink itself and the JDBC driver of the lake's catalog
 * (which the cluster's {@code lib/} must hold: Java's {@code DriverManager} serves a driver only to the class loader
 * that registered it, so a driver shipped with jobs works for the first job only): Tarn's own modules (compute, lake,
 * core) and the libraries of its connectors, formats and lake catalog (Kafka's connector and client, Iceberg, Parquet,
 * Hadoop's client, the AWS SDK). The build lists the libraries ({@code job-libraries.classpath} and
 * {@code job-connectors.classpath}, written by the dependency plugin); they are found on this process's class path by
 * their artifact, so a launcher's {@code lib/} directory and a build's repository both serve.
 */
public final class JobJars {
    private static final List<String> LISTS = List.of("job-libraries.classpath", "job-connectors.classpath");
    /** A class of each Tarn module a job's tasks load. */
    private static final List<Class<?>> TARN_MODULES = List.of(TarnException.class, LakeCatalog.class, JobJars.class);

    private JobJars() {}

    /**
     * The jars to ship with each job, as {@code file:} URLs.
     *
     * @param workDirectory where a module found as a directory of classes (a build's own tests) is packed into a jar
     * @throws TarnException {@link ErrorCode#COMPUTE_UNAVAILABLE} if a library is not on the class path
     */
    static List<String> resolve(Path workDirectory) {
        List<Path> classPath = classPath();
        Set<Path> jars = new LinkedHashSet<>();
        for (Class<?> module : TARN_MODULES) {
            jars.add(jarOf(module, workDirectory));
        }
        for (Artifact artifact : listed()) {
            jars.add(find(artifact, classPath)
                    .orElseThrow(() -> new TarnException(
                            ErrorCode.COMPUTE_UNAVAILABLE,
                            "cannot ship %s to the Flink cluster: it is not on Tarn's class path"
                                    .formatted(artifact.fileName()))));
        }
        return jars.stream().map(p -> p.toUri().toString()).toList();
    }

    /** A library as the build named it: its artifact (the repository's directory) and the file of its version. */
    record Artifact(String artifactId, String fileName) {
        /** From a path in a Maven repository: {@code …/<artifactId>/<version>/<file>}. */
        static Artifact of(Path path) {
            return new Artifact(
                    path.getParent().getParent().getFileName().toString(),
                    path.getFileName().toString());
        }

        /** Whether a jar's file name is this artifact's, in any version ({@code <artifactId>-<digit>…}). */
        boolean matches(String file) {
            String prefix = artifactId + "-";
            return file.endsWith(".jar")
                    && file.startsWith(prefix)
                    && file.length() > prefix.length()
                    && Character.isDigit(file.charAt(prefix.length()));
        }
    }

    /** Whether a jar is one of the libraries Tarn ships with each job, in any version. */
    public static boolean isShipped(Path jar) {
        String file = jar.getFileName().toString();
        return listed().stream().anyMatch(artifact -> artifact.matches(file));
    }

    private static List<Artifact> listed() {
        List<Artifact> artifacts = new ArrayList<>();
        for (String list : LISTS) {
            try (InputStream in = JobJars.class.getResourceAsStream(list)) {
                if (in == null) {
                    throw new IllegalStateException(list + " is missing: build tarn-compute with Maven");
                }
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
                for (String entry : text.split(File.pathSeparator)) {
                    if (!entry.isBlank()) {
                        artifacts.add(Artifact.of(Path.of(entry)));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return artifacts;
    }

    /**
     * The jar of an artifact on the class path: the file of the version the build listed, else the same artifact in
     * another version (a launcher's class path resolved its versions together with other modules').
     */
    static Optional<Path> find(Artifact artifact, List<Path> classPath) {
        Map<String, Path> byName = new LinkedHashMap<>();
        for (Path entry : classPath) {
            if (entry.getFileName() != null) {
                byName.putIfAbsent(entry.getFileName().toString(), entry);
            }
        }
        Path exact = byName.get(artifact.fileName());
        if (exact != null) {
            return Optional.of(exact);
        }
        return byName.entrySet().stream()
                .filter(e -> artifact.matches(e.getKey()))
                .map(Map.Entry::getValue)
                .findFirst();
    }

    /**
     * This JVM's class path: {@code java.class.path} and the {@code Class-Path} of its jars' manifests (a launcher
     * with a long class path may hand it over in a manifest-only jar).
     */
    static List<Path> classPath() {
        Set<Path> entries = new LinkedHashSet<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path path = Path.of(entry).toAbsolutePath();
            entries.add(path);
            entries.addAll(manifestClassPath(path));
        }
        return List.copyOf(entries);
    }

    private static List<Path> manifestClassPath(Path jar) {
        if (!jar.toString().endsWith(".jar") || !Files.isRegularFile(jar)) {
            return List.of();
        }
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            String value =
                    manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (value == null) {
                return List.of();
            }
            List<Path> paths = new ArrayList<>();
            for (String url : value.trim().split("\\s+")) {
                try {
                    paths.add(Path.of(jar.toUri().resolve(url)));
                } catch (IllegalArgumentException e) {
                    // not a file: URL; the JVM would not load from it either
                }
            }
            return paths;
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The jar a class was loaded from; a directory of classes is packed into one under the work directory. */
    private static Path jarOf(Class<?> type, Path workDirectory) {
        Path location;
        try {
            location = Path.of(
                    type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new TarnException(ErrorCode.COMPUTE_UNAVAILABLE, "cannot tell which jar holds " + type.getName(), e);
        }
        if (Files.isRegularFile(location)) {
            return location;
        }
        String module = location.getParent() == null
                ? "classes"
                : location.getParent().getParent().getFileName().toString();
        Path jar = workDirectory.resolve(module + ".jar");
        try {
            Files.createDirectories(workDirectory);
            pack(location, jar);
        } catch (IOException e) {
            throw new TarnException(
                    ErrorCode.COMPUTE_UNAVAILABLE, "cannot pack the classes of " + module + " into a jar", e);
        }
        return jar;
    }

    private static void pack(Path directory, Path jar) throws IOException {
        Path partial = jar.resolveSibling(jar.getFileName() + ".partial");
        try (OutputStream file = Files.newOutputStream(partial);
                JarOutputStream out = new JarOutputStream(file);
                Stream<Path> files = Files.walk(directory)) {
            for (Path path : files.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(
                        new ZipEntry(directory.relativize(path).toString().replace(File.separatorChar, '/')));
                Files.copy(path, out);
                out.closeEntry();
            }
        }
        Files.move(partial, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
