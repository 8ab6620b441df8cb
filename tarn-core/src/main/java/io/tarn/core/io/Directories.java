package io.tarn.core.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/** File-tree helpers shared by the modules that own directories in the data dir. */
public final class Directories {
    private static final int ATTEMPTS = 3;

    private static final String OWNER_ONLY_DIRECTORY = "rwx------";
    private static final String OWNER_ONLY_FILE = "rw-------";

    private Directories() {}

    /**
     * Creates a directory (and its parents) if needed and makes it accessible to its owner only (mode 0700, where the
     * file system is POSIX), so that nothing below it can be read by other users, whatever the files' own modes.
     *
     * @throws UncheckedIOException if it cannot be created or its mode cannot be set
     */
    public static void createOwnerOnly(Path directory) {
        try {
            Files.createDirectories(directory);
            if (isPosix(directory)) {
                Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString(OWNER_ONLY_DIRECTORY));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a file that only its owner may read (mode 0600): the text goes into a new file created with that mode,
     * which then replaces {@code file} atomically, so the text is never readable by others, not even for a moment.
     *
     * @throws UncheckedIOException if it cannot be written
     */
    public static void writeOwnerOnly(Path file, String text) {
        Path directory = file.toAbsolutePath().getParent();
        try {
            Path temporary = isPosix(directory)
                    ? Files.createTempFile(
                            directory,
                            "." + file.getFileName(),
                            ".tmp",
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(OWNER_ONLY_FILE)))
                    : Files.createTempFile(directory, "." + file.getFileName(), ".tmp");
            try {
                Files.writeString(
                        temporary,
                        text,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.SYNC);
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(temporary);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether a file is readable or writable by others than its owner (false where the file system is not POSIX). */
    public static boolean isSharedWithOthers(Path file) {
        try {
            if (!isPosix(file)) {
                return false;
            }
            var permissions = Files.getPosixFilePermissions(file);
            return permissions.stream().anyMatch(p -> !p.name().startsWith("OWNER_"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean isPosix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /**
     * Deletes a directory and everything below it; a missing directory is already deleted. Files and directories that
     * vanish meanwhile are fine (Flink removes subsumed checkpoints on its own threads, also after a job finished); a
     * directory that gets new files meanwhile is walked again, up to three times.
     *
     * @throws UncheckedIOException naming the first path that could not be deleted
     */
    public static void deleteRecursively(Path root) {
        for (int attempt = 1; ; attempt++) {
            try {
                Files.walkFileTree(root, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                        Files.deleteIfExists(file);
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                        if (e instanceof NoSuchFileException) {
                            return FileVisitResult.CONTINUE;
                        }
                        throw e;
                    }

                    @Override
                    public FileVisitResult postVisitDirectory(Path directory, IOException e) throws IOException {
                        if (e != null && !(e instanceof NoSuchFileException)) {
                            throw e;
                        }
                        Files.deleteIfExists(directory);
                        return FileVisitResult.CONTINUE;
                    }
                });
                return;
            } catch (DirectoryNotEmptyException e) {
                if (attempt == ATTEMPTS) {
                    throw new UncheckedIOException(e);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
