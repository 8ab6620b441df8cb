package io.tarn.core.error;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * The one exception Tarn throws across module boundaries. Adapters translate engine exceptions (Kafka, Flink, Iceberg)
 * into it at the boundary. The message is safe to show a remote caller: it names the values involved, never a file
 * path or a stack trace.
 */
public class TarnException extends RuntimeException {
    private final ErrorCode code;

    public TarnException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public TarnException(ErrorCode code, String message, Throwable cause) {
        super(requireNonNull(message, "message is null"), cause);
        this.code = requireNonNull(code, "code is null");
    }

    public ErrorCode code() {
        return code;
    }

    /**
     * What a caller needs beyond the message to act on the error, as plain data (strings, numbers, booleans, lists and
     * maps of them): the HTTP API adds each entry to its error object. None by default.
     */
    public Map<String, Object> details() {
        return Map.of();
    }

    /** The root cause's message, or the throwable's own; for messages that must say why something failed. */
    public static String rootMessage(Throwable throwable) {
        Throwable root = throwable;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }
}
