package io.tarn.server.http;

import static java.util.Objects.requireNonNull;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One endpoint: a method and a path template such as {@code /v1/topics/{name}/records}, and its handler.
 *
 * @param template path with {@code {param}} segments
 * @param open whether it answers without a token (only {@code GET /v1/health})
 * @param bodyTypes media types of request bodies it reads
 */
public record Route(
        String method, String template, boolean open, Set<String> bodyTypes, Handler handler, Access access) {
    public Route {
        requireNonNull(method, "method is null");
        requireNonNull(template, "template is null");
        bodyTypes = Set.copyOf(requireNonNull(bodyTypes, "bodyTypes is null"));
        requireNonNull(handler, "handler is null");
        requireNonNull(access, "access is null");
    }

    /** A route that needs a token and reads JSON bodies; until {@link #requiring} says otherwise, the admin's only. */
    public Route(String method, String template, Handler handler) {
        this(method, template, false, Set.of(HttpGuard.JSON), handler, Access.ADMIN);
    }

    /** This route (its method, path and checks), answering every request with this error. */
    public Route refusing(Supplier<? extends RuntimeException> error) {
        return new Route(
                method,
                template,
                open,
                bodyTypes,
                request -> {
                    throw error.get();
                },
                access);
    }

    /** This route, answering without a token. */
    Route withoutToken() {
        return new Route(method, template, true, bodyTypes, handler, Access.TOKEN);
    }

    /** This route, reading bodies of these media types. */
    Route reading(String... mediaTypes) {
        return new Route(method, template, open, Set.of(mediaTypes), handler, access);
    }

    /** This route, for principals that hold what {@code access} says. */
    Route requiring(Access access) {
        return new Route(method, template, open, bodyTypes, handler, access);
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
                        URLDecoder.decode(actual[i], StandardCharsets.UTF_8));
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
