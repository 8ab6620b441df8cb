package io.tarn.server.http;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One endpoint: a method and a path template such as {@code /v1/topics/{name}/records}, and its handler.
 *
 * @param template path with {@code {param}} segments
 */
public record Route(String method, String template, Handler handler) {
    public Route {
        requireNonNull(method, "method is null");
        requireNonNull(template, "template is null");
        requireNonNull(handler, "handler is null");
    }

    /** Path parameters if the path fits the template. */
    Optional<Map<String, String>> match(String path) {
        String[] expected = template.split("/");
        String[] actual = path.split("/");
        if (expected.length != actual.length) {
            return Optional.empty();
        }
        Map<String, String> parameters = new HashMap<>();
        for (int i = 0; i < expected.length; i++) {
            if (expected[i].startsWith("{") && expected[i].endsWith("}")) {
                if (actual[i].isEmpty()) {
                    return Optional.empty();
                }
                parameters.put(
                        expected[i].substring(1, expected[i].length() - 1),
                        java.net.URLDecoder.decode(actual[i], java.nio.charset.StandardCharsets.UTF_8));
            } else if (!expected[i].equals(actual[i])) {
                return Optional.empty();
            }
        }
        return Optional.of(parameters);
    }

    /** Handles a matched request. */
    @FunctionalInterface
    public interface Handler {
        Response handle(Request request) throws Exception;
    }
}
