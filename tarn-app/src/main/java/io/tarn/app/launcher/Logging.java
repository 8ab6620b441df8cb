package io.tarn.app.launcher;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.FileAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.filter.AbstractFilter;
import org.apache.logging.log4j.core.layout.PatternLayout;

/** Where the log of {@code tarn server} and {@code tarn demo} goes, and how much of Tarn's own it holds. */
final class Logging {
    /** The pattern of log4j2.xml's console appender. */
    private static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%t] %c{1} - %msg%n";

    /** Flink's logger of failed checkpoints. */
    static final String CHECKPOINT_FAILURES = "org.apache.flink.runtime.checkpoint.CheckpointFailureManager";

    private Logging() {}

    /**
     * Leaves out the warning, with its stack trace, that Flink logs for the checkpoint in flight when a pipeline's job
     * is stopped or cancelled ("Checkpoint Coordinator is suspending"): expected at every stop, and Tarn logs the stop
     * itself. Every other checkpoint failure is still logged.
     */
    static final class CancelledCheckpoints extends AbstractFilter {
        CancelledCheckpoints() {
            super(Result.DENY, Result.NEUTRAL);
        }

        @Override
        public Result filter(LogEvent event) {
            for (Throwable t = event.getThrown(); t != null; t = t.getCause()) {
                if (String.valueOf(t.getMessage()).contains("Checkpoint Coordinator is suspending")) {
                    return onMatch;
                }
            }
            return onMismatch;
        }
    }

    static void apply(TarnConfig config) {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        configuration.getLoggerConfig("io.tarn").setLevel(Level.valueOf(config.get(ConfigKeys.LOGGING_LEVEL)));
        LoggerConfig checkpoints = new LoggerConfig(CHECKPOINT_FAILURES, Level.WARN, true);
        checkpoints.addFilter(new CancelledCheckpoints());
        configuration.addLogger(CHECKPOINT_FAILURES, checkpoints);
        String file = config.get(ConfigKeys.LOGGING_FILE);
        if (!file.isBlank()) {
            FileAppender appender = FileAppender.newBuilder()
                    .setName("file")
                    .withFileName(file)
                    .withAppend(true)
                    .setLayout(PatternLayout.newBuilder()
                            .withPattern(PATTERN)
                            .withConfiguration(configuration)
                            .build())
                    .setConfiguration(configuration)
                    .build();
            appender.start();
            configuration.addAppender(appender);
            LoggerConfig root = configuration.getRootLogger();
            root.getAppenders().keySet().forEach(root::removeAppender);
            root.addAppender(appender, null, null);
        }
        context.updateLoggers();
    }
}
