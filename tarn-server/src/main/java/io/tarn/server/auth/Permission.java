package io.tarn.server.auth;

import static java.util.Objects.requireNonNull;

/**
 * A privilege on one resource, as a request needs it: {@code read} on {@code table:web.clicks}.
 *
 * @param resource {@code <kind>:<name>} ({@code topic}, {@code table}, {@code pipeline}, {@code source},
 *     {@code view}), {@code metrics}, or {@code *} (Tarn itself: tokens, grants, settings)
 */
public record Permission(Privilege privilege, String resource) {
    public Permission {
        requireNonNull(privilege, "privilege is null");
        requireNonNull(resource, "resource is null");
    }

    public static Permission read(String kind, String name) {
        return new Permission(Privilege.READ, kind + ":" + name);
    }

    public static Permission write(String kind, String name) {
        return new Permission(Privilege.WRITE, kind + ":" + name);
    }

    public static Permission manage(String kind, String name) {
        return new Permission(Privilege.MANAGE, kind + ":" + name);
    }

    /** Tarn itself: tokens, grants, registry-wide settings. Only the admin token and grants of {@code *} have it. */
    public static Permission admin() {
        return new Permission(Privilege.MANAGE, Grant.EVERYTHING);
    }

    @Override
    public String toString() {
        return privilege.text() + " on " + resource;
    }
}
