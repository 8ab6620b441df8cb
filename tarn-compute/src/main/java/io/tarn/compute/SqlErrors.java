package io.tarn.compute;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.flink.table.api.SqlParserException;
import org.apache.flink.table.api.TableException;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.exceptions.DatabaseAlreadyExistException;
import org.apache.flink.table.catalog.exceptions.TableAlreadyExistException;

/** Flink's refusals of a pipeline's statements (or a query) as Tarn's errors, decided by the exception's type. */
final class SqlErrors {
    /** The name queries go by in messages. */
    static final String QUERY = "query";

    /** How Flink's messages begin when a table's factory failed (followed by all of the table's options). */
    private static final String FACTORY_FAILED = "Unable to create a ";

    private SqlErrors() {}

    /**
     * Calls Flink with a statement of a pipeline (or a query), turning its refusals into Tarn's errors.
     *
     * @param pipeline the pipeline's name, or {@link #QUERY}
     * @param number the statement's number in the pipeline, 0 for a whole submission or a query
     */
    static <T> T call(String pipeline, int number, Supplier<T> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            Optional<TarnException> refused = notPermitted(e);
            if (refused.isPresent()) {
                throw refused.get();
            }
            throw classified(pipeline, number, e);
        }
    }

    /** A table the principal may not use, refused by TableGuard inside Flink's planner, wherever it sits in a chain. */
    static Optional<TarnException> notPermitted(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TarnException tarn && tarn.code() == ErrorCode.NOT_PERMITTED) {
                return Optional.of(tarn);
            }
        }
        return Optional.empty();
    }

    /** A failure of Flink's parser, validator or submission as Tarn's error; any other failure as it is. */
    private static RuntimeException classified(String pipeline, int number, RuntimeException e) {
        if (e instanceof ValidationException || e instanceof SqlParserException) {
            return invalidSql(pipeline, number, e);
        }
        if (e instanceof IllegalArgumentException) { // Flink's parser: "only single statement supported"
            return new TarnException(
                    ErrorCode.INVALID_SQL,
                    "%s: %s".formatted(where(pipeline, number), abbreviate(TarnException.rootMessage(e))),
                    e);
        }
        if (e instanceof TableException) {
            return e.getMessage() != null && e.getMessage().startsWith("Failed to execute sql")
                    ? submissionFailed(pipeline, e)
                    : invalidSql(pipeline, number, e);
        }
        return e;
    }

    static TarnException submissionFailed(String pipeline, Exception e) {
        return new TarnException(
                ErrorCode.PIPELINE_SUBMISSION_FAILED,
                "pipeline '%s' could not be submitted to Flink: %s".formatted(pipeline, TarnException.rootMessage(e)),
                e);
    }

    static TarnException invalidSql(String pipeline, int number, RuntimeException e) {
        String message = e.getMessage() == null ? TarnException.rootMessage(e) : e.getMessage();
        if (e.getCause() != null && message.startsWith("SQL validation failed")) {
            message = TarnException.rootMessage(e);
        }
        // "Unable to create a source for reading table ... Table options are: ..." lists every option of the table,
        // the catalog's paths and the log's client settings among them: the factory's own reason says what is wrong
        for (Throwable t = e; t != null && message.startsWith(FACTORY_FAILED); t = t.getCause()) {
            message = t.getCause() == null ? "its connector refused the table's options" : describe(t.getCause());
        }
        return new TarnException(
                ErrorCode.INVALID_SQL, "%s: %s".formatted(where(pipeline, number), abbreviate(message)), e);
    }

    private static String describe(Throwable t) {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** Whether Flink refused a CREATE because its database or table exists. */
    static boolean isAlreadyExists(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TableAlreadyExistException || t instanceof DatabaseAlreadyExistException) {
                return true;
            }
        }
        return false;
    }

    private static String where(String pipeline, int number) {
        if (pipeline.equals(QUERY)) {
            return QUERY;
        }
        return number == 0
                ? "pipeline '%s'".formatted(pipeline)
                : "pipeline '%s': statement %d".formatted(pipeline, number);
    }

    private static String abbreviate(String text) {
        String oneLine = text.strip();
        int expecting = oneLine.indexOf("\nWas expecting");
        if (expecting > 0) {
            oneLine = oneLine.substring(0, expecting).strip();
        }
        return oneLine.length() <= 600 ? oneLine : oneLine.substring(0, 597) + "...";
    }
}
