package io.tarn.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.ErrorType;
import io.tarn.core.error.TarnException;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Errors on the wire: Tarn's error codes as HTTP statuses and {@code {"error": {code, name, message, retriable, ...}}}
 * bodies, scrubbed of the data directory's path. An exception that is not Tarn's is logged with an id and answered
 * without any detail.
 */
final class ErrorBodies {
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    /** Paths of the Iceberg REST catalog, whose errors are written as its spec says. */
    static final String ICEBERG_PATHS = "/iceberg/";

    /** Paths of the schema registry, whose errors are written as Confluent's ({@link SchemaRegistryApi}). */
    static final String REGISTRY_PATHS = SchemaRegistryApi.BASE + "/";

    private final String redactedPath;
    private final String publicPath;

    /** @param redactedPath text (the data directory) never to show in a response */
    ErrorBodies(String redactedPath) {
        this(redactedPath, "");
    }

    /**
     * @param redactedPath text (the data directory) never to show in a response
     * @param publicPath a path under it that the API shows anyway (the warehouse: the Iceberg REST catalog answers
     *     tables' locations), which is not redacted
     */
    ErrorBodies(String redactedPath, String publicPath) {
        this.redactedPath = redactedPath;
        this.publicPath = publicPath;
    }

    /** The answer to a request that failed with {@code e}; failures of Tarn's parts and unexpected ones are logged. */
    Response of(String method, String path, Throwable e) {
        if (e instanceof TarnException tarn) {
            if (tarn.code().type() == ErrorType.INTERNAL || tarn.code().type() == ErrorType.EXTERNAL) {
                LOG.warn("{} {} failed: {}", method, path, tarn.getMessage(), tarn);
            }
            if (path.startsWith(ICEBERG_PATHS)) {
                return iceberg(status(tarn.code()), tarn.code().name(), redact(tarn.getMessage()));
            }
            if (path.startsWith(REGISTRY_PATHS)) {
                return SchemaRegistryApi.error(status(tarn.code()), redact(tarn.getMessage()));
            }
            ObjectNode body = body(tarn.code(), redact(tarn.getMessage()));
            ObjectNode error = (ObjectNode) body.get("error");
            tarn.details().forEach((key, value) -> error.set(key, Request.JSON.valueToTree(value)));
            return new Response(status(tarn.code()), body);
        }
        String id = UUID.randomUUID().toString().substring(0, 8);
        LOG.error("{} {} failed unexpectedly (error id {})", method, path, id, e);
        String message = "internal error (error id %s); see the server log".formatted(id);
        if (path.startsWith(ICEBERG_PATHS)) {
            return iceberg(500, ErrorCode.INTERNAL_ERROR.name(), message);
        }
        if (path.startsWith(REGISTRY_PATHS)) {
            return SchemaRegistryApi.error(500, message);
        }
        return new Response(500, body(ErrorCode.INTERNAL_ERROR, message));
    }

    /**
     * An error of the Iceberg REST catalog as its spec writes it, {@code {"error": {message, type, code}}} with the HTTP
     * status as {@code code}, so that Iceberg's clients read it (e.g. a 401 as {@code NotAuthorizedException}).
     */
    Response iceberg(int status, String type, String message) {
        ObjectNode body = Request.JSON.createObjectNode();
        body.putObject("error")
                .put("message", redact(message))
                .put("type", type)
                .put("code", status);
        return new Response(status, body);
    }

    /** The body of an error. */
    static ObjectNode body(ErrorCode code, String message) {
        ObjectNode body = Request.JSON.createObjectNode();
        body.putObject("error")
                .put("code", code.number())
                .put("name", code.name())
                .put("message", message)
                .put("retriable", code.retriable());
        return body;
    }

    private String redact(String message) {
        String kept = "\u0000public\u0000";
        String shown = publicPath.isEmpty() ? message : message.replace(publicPath, kept);
        String clean = redactedPath.isEmpty() ? shown : shown.replace(redactedPath, "<data-dir>");
        return clean.replace(kept, publicPath)
                .replace("file:///<data-dir>", "<data-dir>")
                .replace("file://<data-dir>", "<data-dir>")
                .replace("file:<data-dir>", "<data-dir>");
    }

    /** The HTTP status of an error code, by its type. */
    static int status(ErrorCode code) {
        return switch (code.type()) {
            case USER_ERROR ->
                switch (code) {
                    case REQUEST_TOO_LARGE -> 413;
                    case METHOD_NOT_ALLOWED -> 405;
                    case UNSUPPORTED_MEDIA_TYPE -> 415;
                    case REQUEST_TIMEOUT -> 408;
                    default -> 400;
                };
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case UNAUTHORIZED -> 401;
            case FORBIDDEN -> 403;
            case EXTERNAL -> code.retriable() ? 503 : 502;
            case INSUFFICIENT_RESOURCES -> 503;
            case INTERNAL -> 500;
        };
    }
}
