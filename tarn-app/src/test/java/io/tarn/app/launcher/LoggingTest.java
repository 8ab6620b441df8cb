package io.tarn.app.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.core.config.TarnConfig;
import java.io.IOException;
import org.apache.flink.runtime.checkpoint.CheckpointException;
import org.apache.flink.runtime.checkpoint.CheckpointFailureReason;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.Test;

/** The server's logging: what it leaves out of the engines' logs, and only that. */
class LoggingTest {
    @Test
    void theWarningOfTheCheckpointInFlightWhenAJobStopsIsLeftOutAndOtherCheckpointFailuresAreNot() {
        Logging.apply(TarnConfig.defaults());
        LoggerConfig checkpoints = ((LoggerContext) LogManager.getContext(false))
                .getConfiguration()
                .getLoggerConfig(Logging.CHECKPOINT_FAILURES);
        assertThat(checkpoints.getName()).isEqualTo(Logging.CHECKPOINT_FAILURES);
        assertThat(checkpoints.isFiltered(
                        failure(new CheckpointException(CheckpointFailureReason.CHECKPOINT_COORDINATOR_SUSPEND))))
                .isTrue();
        assertThat(checkpoints.isFiltered(failure(new CheckpointException(
                        CheckpointFailureReason.CHECKPOINT_DECLINED, new IOException("No space left on device")))))
                .isFalse();
        assertThat(checkpoints.isFiltered(failure(null))).isFalse();
    }

    private static LogEvent failure(Throwable thrown) {
        return Log4jLogEvent.newBuilder()
                .setLoggerName(Logging.CHECKPOINT_FAILURES)
                .setLevel(Level.WARN)
                .setMessage(
                        new SimpleMessage(
                                "Failed to trigger or complete checkpoint 9 for job 4a40. (0 consecutive failed attempts so far)"))
                .setThrown(thrown)
                .build();
    }
}
