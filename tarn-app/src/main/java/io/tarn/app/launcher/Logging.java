package io.tarn.app.launcher;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.FileAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

/** Where the log of {@code tarn server} and {@code tarn demo} goes, and how much of Tarn's own it holds. */
final class Logging {
    /** The pattern of log4j2.xml's console appender. */
    private static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%t] %c{1} - %msg%n";

    private Logging() {}

    static void apply(TarnConfig config) {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        configuration.getLoggerConfig("io.tarn").setLevel(Level.valueOf(config.get(ConfigKeys.LOGGING_LEVEL)));
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
