package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

/** An error answer of Tarn's HTTP API (or no answer at all: status 0). */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String name;
    private final JsonNode details;

    ApiException(int status, String name, String message) {
        this(status, name, message, MissingNode.getInstance());
    }

    ApiException(int status, String name, String message, JsonNode details) {
        super(message);
        this.status = status;
        this.name = name;
        this.details = details;
    }

    public int status() {
        return status;
    }

    public String name() {
        return name;
    }

    /** The answer's {@code error} object, with what the error carries besides its message (e.g. {@code records}). */
    JsonNode details() {
        return details;
    }

    /**
     * The process exit code for this error: 3 bad request, 4 not found, 5 conflict, 6 Tarn or a part of it unavailable,
     * 7 no valid token or not permitted, 1 anything else (including Tarn not reachable).
     */
    public int exitCode() {
        return switch (status) {
            case 400, 405, 408, 413, 415 -> 3;
            case 404 -> 4;
            case 409 -> 5;
            case 502, 503 -> 6;
            case 401, 403 -> 7;
            default -> 1;
        };
    }
}
