package io.tarn.core.error;

/** What kind of failure an {@link ErrorCode} describes; the HTTP API and the CLI map it to a status and an exit code. */
public enum ErrorType {
    /** The caller sent something invalid; retrying the same request cannot help. */
    USER_ERROR,
    /** The named object does not exist. */
    NOT_FOUND,
    /** The request conflicts with the current state, e.g. a duplicate name. */
    CONFLICT,
    UNAUTHORIZED,
    FORBIDDEN,
    /** A system Tarn depends on (Kafka, Flink, the catalog, storage) failed. */
    EXTERNAL,
    /** A bug or an unexpected state inside Tarn. */
    INTERNAL,
    /** Tarn lacks the resources to do it now (disk, memory, task slots). */
    INSUFFICIENT_RESOURCES
}
