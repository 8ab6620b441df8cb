package io.tarn.server.http;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One API call as the audit log keeps it: who, what, on which resources, what was decided and answered, never a body,
 * a query string or a token.
 *
 * @param principal the token's name; empty when the request had no valid token
 * @param route the route's method and template ({@code POST /v1/pipelines/{name}/start}); empty for no route
 * @param path the request's path, without its query string
 * @param privileges each privilege checked, as {@code read on topic:orders}, those refused ending in {@code (denied)}
 * @param decision {@code allowed}, {@code denied} (403 for a missing privilege) or {@code unauthenticated} (401)
 * @param error the error's name when the call failed
 */
public record AuditEvent(
        Instant at,
        Optional<String> principal,
        String method,
        String route,
        String path,
        List<String> privileges,
        String decision,
        int status,
        Optional<String> error,
        long millis) {
    public AuditEvent {
        requireNonNull(at, "at is null");
        requireNonNull(principal, "principal is null");
        requireNonNull(method, "method is null");
        requireNonNull(route, "route is null");
        requireNonNull(path, "path is null");
        privileges = List.copyOf(privileges);
        requireNonNull(decision, "decision is null");
        requireNonNull(error, "error is null");
    }
}
