package io.tarn.server.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class MaintenanceThreadTest {
    @Test
    void runsItsTasksAtTheNiceValueItWasGivenAndLeavesTheCallerAlone() {
        OptionalInt caller = MaintenanceThread.niceOfThisThread();
        assumeTrue(caller.isPresent() && caller.getAsInt() < 19, "Linux with a thread below nice 19");
        try (MaintenanceThread thread = new MaintenanceThread(19)) {
            assertThat(thread.call(MaintenanceThread::niceOfThisThread)).hasValue(19);
            assertThat(thread.call(() -> Thread.currentThread().getName())).isEqualTo("tarn-maintenance");
        }
        assertThat(MaintenanceThread.niceOfThisThread()).isEqualTo(caller);
        try (MaintenanceThread thread = new MaintenanceThread(0)) {
            assertThat(thread.call(MaintenanceThread::niceOfThisThread)).isEqualTo(caller);
        }
    }

    @Test
    void duckDbThreadsStartedFromItInheritItsNiceValue() throws Exception {
        assumeTrue(MaintenanceThread.niceOfThisThread().orElse(19) < 19, "Linux with a thread below nice 19");
        try (MaintenanceThread thread = new MaintenanceThread(19)) {
            long before = thread.call(MaintenanceThreadTest::threadsAtNice19); // it (and other tests' that end)
            try (Connection duck = thread.call(() -> {
                Connection connection = DriverManager.getConnection("jdbc:duckdb:");
                try (Statement statement = connection.createStatement()) {
                    statement.execute("SET threads = 3");
                }
                return connection;
            })) {
                // DuckDB's two workers at least (with whatever else the driver starts from the calling thread)
                assertThat(threadsAtNice19()).isGreaterThanOrEqualTo(before + 2);
            }
        }
    }

    /** The threads of this process at nice 19. */
    private static long threadsAtNice19() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(task -> {
                        try {
                            String stat = Files.readString(task.resolve("stat"));
                            return stat.substring(stat.lastIndexOf(')') + 2)
                                    .split(" ")[16]
                                    .equals("19");
                        } catch (IOException e) {
                            return false; // ended meanwhile
                        }
                    })
                    .count();
        }
    }

    @Test
    void rethrowsWhatATaskThrows() {
        TarnException failure = new TarnException(ErrorCode.MAINTENANCE_FAILED, "compaction failed");
        try (MaintenanceThread thread = new MaintenanceThread(19)) {
            assertThatThrownBy(() -> thread.call(() -> {
                        throw failure;
                    }))
                    .isSameAs(failure);
            assertThat(thread.call(() -> 42)).isEqualTo(42); // the thread survives a failed task
        }
    }
}
