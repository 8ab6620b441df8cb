package io.tarn.core.error;

/**
 * Every error Tarn reports, as data: a stable number, a name, a type and whether a retry can help. Numbers never change
 * meaning once released; new codes take new numbers.
 */
public enum ErrorCode {
    INVALID_REQUEST(1, ErrorType.USER_ERROR, false),
    INVALID_CONFIG(2, ErrorType.USER_ERROR, false),
    INVALID_NAME(3, ErrorType.USER_ERROR, false),
    INVALID_RECORDS(4, ErrorType.USER_ERROR, false),
    INVALID_SQL(5, ErrorType.USER_ERROR, false),
    UNSUPPORTED_QUERY(6, ErrorType.USER_ERROR, false),
    REQUEST_TOO_LARGE(7, ErrorType.USER_ERROR, false),
    INVALID_STATE(8, ErrorType.CONFLICT, false),
    RESTORE_REFUSED(9, ErrorType.CONFLICT, false),
    UNAUTHENTICATED(10, ErrorType.UNAUTHORIZED, false),
    HOST_NOT_ALLOWED(11, ErrorType.FORBIDDEN, false),
    ORIGIN_NOT_ALLOWED(12, ErrorType.FORBIDDEN, false),
    NOT_PERMITTED(13, ErrorType.FORBIDDEN, false),
    UNSUPPORTED_MEDIA_TYPE(14, ErrorType.USER_ERROR, false),
    REQUEST_TIMEOUT(15, ErrorType.USER_ERROR, false),
    STATEMENT_NOT_ALLOWED(16, ErrorType.USER_ERROR, false),

    TOPIC_NOT_FOUND(100, ErrorType.NOT_FOUND, false),
    TOPIC_ALREADY_EXISTS(101, ErrorType.CONFLICT, false),
    PIPELINE_NOT_FOUND(102, ErrorType.NOT_FOUND, false),
    PIPELINE_ALREADY_EXISTS(103, ErrorType.CONFLICT, false),
    TABLE_NOT_FOUND(104, ErrorType.NOT_FOUND, false),
    ROUTE_NOT_FOUND(105, ErrorType.NOT_FOUND, false),
    METHOD_NOT_ALLOWED(106, ErrorType.USER_ERROR, false),
    SOURCE_NOT_FOUND(107, ErrorType.NOT_FOUND, false),
    SOURCE_ALREADY_EXISTS(108, ErrorType.CONFLICT, false),
    TOKEN_NOT_FOUND(109, ErrorType.NOT_FOUND, false),
    TOKEN_ALREADY_EXISTS(110, ErrorType.CONFLICT, false),
    TABLE_MISMATCH(111, ErrorType.CONFLICT, false),
    TOPIC_IN_USE(112, ErrorType.CONFLICT, false),
    TABLE_IN_USE(113, ErrorType.CONFLICT, false),
    VIEW_NOT_FOUND(114, ErrorType.NOT_FOUND, false),
    VIEW_ALREADY_EXISTS(115, ErrorType.CONFLICT, false),
    NOT_ON_THIS_NODE(116, ErrorType.CONFLICT, false),
    SCHEMA_INCOMPATIBLE(117, ErrorType.CONFLICT, false),
    /** A schema registry subject, version or id that does not exist. */
    SCHEMA_NOT_FOUND(118, ErrorType.NOT_FOUND, false),
    GRANT_NOT_FOUND(119, ErrorType.NOT_FOUND, false),

    LOG_UNAVAILABLE(200, ErrorType.EXTERNAL, true),
    COMPUTE_UNAVAILABLE(201, ErrorType.EXTERNAL, true),
    CATALOG_UNAVAILABLE(202, ErrorType.EXTERNAL, true),
    PIPELINE_SUBMISSION_FAILED(203, ErrorType.EXTERNAL, false),
    QUERY_FAILED(204, ErrorType.EXTERNAL, false),
    METADATA_UNAVAILABLE(205, ErrorType.EXTERNAL, true),
    NOT_READY(206, ErrorType.EXTERNAL, true),
    STORAGE_FULL(207, ErrorType.INSUFFICIENT_RESOURCES, true),
    SOURCE_UNAVAILABLE(208, ErrorType.EXTERNAL, true),
    QUERY_TIMEOUT(209, ErrorType.INSUFFICIENT_RESOURCES, false),
    QUERY_BUSY(210, ErrorType.INSUFFICIENT_RESOURCES, true),
    MAINTENANCE_FAILED(211, ErrorType.EXTERNAL, true),

    INTERNAL_ERROR(500, ErrorType.INTERNAL, false);

    private final int number;
    private final ErrorType type;
    private final boolean retriable;

    ErrorCode(int number, ErrorType type, boolean retriable) {
        this.number = number;
        this.type = type;
        this.retriable = retriable;
    }

    public int number() {
        return number;
    }

    public ErrorType type() {
        return type;
    }

    /** Whether the same request may succeed later without change. */
    public boolean retriable() {
        return retriable;
    }
}
