package io.tarn.server.http;

import io.tarn.server.auth.Permission;
import java.util.ArrayList;
import java.util.List;

/**
 * The privileges checked while one request is handled on this thread, the route's own and those of the tables its
 * SQL names ({@link Authorizer#require}), for its audit event.
 */
final class AuditTrail {
    private static final ThreadLocal<List<String>> CURRENT = new ThreadLocal<>();

    private AuditTrail() {}

    static void begin() {
        CURRENT.set(new ArrayList<>());
    }

    /** A decision on this thread; none is kept outside a request. */
    static void note(Permission permission, boolean allowed) {
        List<String> trail = CURRENT.get();
        if (trail != null) {
            trail.add(permission + (allowed ? "" : " (denied)"));
        }
    }

    /** The decisions since {@link #begin}, and the end of this request's trail. */
    static List<String> end() {
        List<String> trail = CURRENT.get();
        CURRENT.remove();
        return trail == null ? List.of() : trail;
    }
}
