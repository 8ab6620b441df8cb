package io.tarn.server.http;

import io.tarn.server.auth.Permission;
import io.tarn.server.auth.Privilege;
import java.util.List;

/**
 * What a route's request needs its principal to hold, decided before its handler runs (a refused request changes
 * nothing). Handlers whose needs depend on SQL (pipelines, views, queries) check those needs themselves, after this.
 */
@FunctionalInterface
public interface Access {
    List<Permission> needs(Request request);

    /** Any valid token: the route shows only what the principal may read, or nothing of a resource. */
    Access TOKEN = request -> List.of();

    /** Tarn itself: tokens, grants, registry-wide settings. */
    Access ADMIN = request -> List.of(Permission.admin());

    /** A privilege on the resource a path parameter {@code name} names. */
    static Access path(Privilege privilege, String kind) {
        return request -> List.of(new Permission(privilege, kind + ":" + request.path("name")));
    }

    /**
     * A privilege on the resource a text field of the JSON body names; nothing when the field is missing, which the
     * handler then refuses.
     */
    static Access body(Privilege privilege, String kind, String field) {
        return request -> Request.bodyText(request, field)
                .map(name -> List.of(new Permission(privilege, kind + ":" + name)))
                .orElse(List.of());
    }
}
