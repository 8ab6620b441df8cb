package io.tarn.core.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoriesTest {
    @TempDir
    Path dir;

    @Test
    void missingDirectoryIsAlreadyDeleted() {
        Directories.deleteRecursively(dir.resolve("never-made"));
        assertThat(dir).isEmptyDirectory();
    }

    /**
     * Flink removes subsumed checkpoints on its own threads, also after a job finished; deleting a pipeline's state
     * meanwhile met directories that vanished under the walk (found by the Nexmark benchmark: DELETE answered 500).
     */
    @Test
    void treeThatSomeoneElseDeletesMeanwhileIsDeleted() throws Exception {
        for (int round = 0; round < 10; round++) {
            Path root = dir.resolve("checkpoints-" + round);
            for (int c = 0; c < 100; c++) {
                Path checkpoint = Files.createDirectories(root.resolve("job").resolve("chk-" + c));
                for (int f = 0; f < 10; f++) {
                    Files.write(checkpoint.resolve("state-" + f), new byte[] {1});
                }
            }
            CountDownLatch started = new CountDownLatch(1);
            Thread other = new Thread(() -> {
                started.countDown();
                for (int c = 0; c < 100; c++) {
                    Directories.deleteRecursively(root.resolve("job").resolve("chk-" + c));
                }
            });
            other.start();
            started.await();
            Directories.deleteRecursively(root);
            other.join();
            assertThat(root).doesNotExist();
        }
    }
}
