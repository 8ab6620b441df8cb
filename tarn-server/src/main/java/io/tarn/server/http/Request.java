package io.tarn.server.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.server.topic.RecordStream;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * An HTTP request as handlers see it: who sent it, path and query parameters and the body.
 *
 * @param principal the name of the token the request was authenticated with; empty on routes open without a token
 * @param lastEventId the {@code Last-Event-ID} header, which a reconnecting event-stream client sends
 */
record Request(
        String principal,
        Map<String, String> pathParameters,
        Map<String, String> queryParameters,
        Optional<String> lastEventId,
        byte[] body) {
    /** Decimals keep their scale in answers: {@code 10.00} stays 10.00 (Jackson's trees would strip it to 1E+1). */
    static final ObjectMapper JSON = JsonMapper.builder()
            // a record's numbers are written to Kafka as they were sent: a double would round a DECIMAL's digits
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    Request {
        requireNonNull(principal, "principal is null");
        pathParameters = Map.copyOf(requireNonNull(pathParameters, "pathParameters is null"));
        queryParameters = Map.copyOf(requireNonNull(queryParameters, "queryParameters is null"));
        requireNonNull(lastEventId, "lastEventId is null");
        requireNonNull(body, "body is null");
    }

    String path(String name) {
        return requireNonNull(pathParameters.get(name), () -> "no path parameter " + name);
    }

    Optional<String> query(String name) {
        return Optional.ofNullable(queryParameters.get(name));
    }

    /**
     * A whole-number query parameter, if the request has it.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} when it is not a whole number
     */
    OptionalLong queryNumber(String name) {
        Optional<String> value = query(name);
        if (value.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(value.get()));
        } catch (NumberFormatException e) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "query parameter '%s' must be a whole number, got '%s'".formatted(name, value.get()));
        }
    }

    /**
     * A boolean query parameter: {@code true} or {@code false} (absent).
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for any other value
     */
    boolean queryFlag(String name) {
        String value = query(name).orElse("false");
        if (!value.equals("true") && !value.equals("false")) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "query parameter '%s' must be true or false, got '%s'".formatted(name, value));
        }
        return Boolean.parseBoolean(value);
    }

    /**
     * The body as a JSON object with no fields but the allowed ones.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming the problem
     */
    JsonNode object(String... allowedFields) {
        JsonNode node;
        try {
            node = body.length == 0 ? null : JSON.readTree(body);
        } catch (IOException e) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "request body is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (node == null || !node.isObject()) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "request body must be a JSON object");
        }
        Set<String> allowed = new TreeSet<>(List.of(allowedFields));
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!allowed.contains(field)) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "unknown field '%s'; allowed fields are %s".formatted(field, allowed));
            }
        }
        return node;
    }

    /** A text field of a JSON object body, if the body is one and has it. */
    static Optional<String> bodyText(Request request, String field) {
        return bodyField(request, field).filter(JsonNode::isTextual).map(JsonNode::asText);
    }

    /** A boolean field of a JSON object body, if the body is one and has it. */
    static Optional<Boolean> bodyFlag(Request request, String field) {
        return bodyField(request, field).filter(JsonNode::isBoolean).map(JsonNode::asBoolean);
    }

    private static Optional<JsonNode> bodyField(Request request, String field) {
        try {
            return request.body.length == 0
                    ? Optional.empty()
                    : Optional.ofNullable(JSON.readTree(request.body).get(field));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static String requiredText(JsonNode object, String field) {
        JsonNode value = object.get(field);
        if (value == null || !value.isTextual() || value.asText().isBlank()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "field '%s' is required and must be a non-empty string".formatted(field));
        }
        return value.asText();
    }

    /**
     * The body as records, read one at a time: a JSON array of values, or newline-delimited JSON.
     *
     * @param maxRecords most records the body may hold
     */
    RecordStream records(int maxRecords) {
        return JsonRecords.of(body, maxRecords);
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unknown problem";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    /** The parameters of a URL's query string, decoded; a repeated name keeps its last value. */
    static Map<String, String> queryParameters(String raw) {
        Map<String, String> parameters = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return parameters;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            parameters.put(key, value);
        }
        return parameters;
    }
}
