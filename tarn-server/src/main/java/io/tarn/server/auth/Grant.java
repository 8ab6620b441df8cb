package io.tarn.server.auth;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.List;

/**
 * A privilege on the resources a pattern names: {@code read} on {@code table:web.*}. A pattern is
 * {@code <kind>:<name>} where the name may hold {@code *} (any characters, dots too), {@code metrics}, or {@code *}
 * (everything, Tarn itself included).
 */
public record Grant(Privilege privilege, String resource) {
    /** The pattern of everything. */
    public static final String EVERYTHING = "*";

    public static final String METRICS = "metrics";

    /** The kinds of resources, each {@code <kind>:<name>}. */
    public static final List<String> KINDS = List.of("topic", "table", "pipeline", "source", "view");

    public Grant {
        requireNonNull(privilege, "privilege is null");
        requireValid(requireNonNull(resource, "resource is null"));
    }

    /** Whether this grant gives the permission. */
    public boolean gives(Permission permission) {
        return privilege.implies(permission.privilege()) && covers(resource, permission.resource());
    }

    private static boolean covers(String pattern, String resource) {
        if (pattern.equals(EVERYTHING)) {
            return true;
        }
        int colon = pattern.indexOf(':');
        if (colon < 0) {
            return pattern.equals(resource);
        }
        return resource.startsWith(pattern.substring(0, colon + 1))
                && glob(pattern.substring(colon + 1), resource.substring(colon + 1));
    }

    /** {@code *} matches any characters; a name that holds {@code *} itself (a namespace's tables) is matched as text. */
    private static boolean glob(String pattern, String name) {
        int p = 0;
        int n = 0;
        int star = -1;
        int resume = 0;
        while (n < name.length()) {
            if (p < pattern.length() && pattern.charAt(p) != '*' && pattern.charAt(p) == name.charAt(n)) {
                p++;
                n++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                resume = n;
            } else if (star >= 0) {
                p = star + 1;
                n = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming what is wrong with a resource pattern
     */
    static void requireValid(String resource) {
        if (resource.equals(EVERYTHING) || resource.equals(METRICS)) {
            return;
        }
        int colon = resource.indexOf(':');
        String kind = colon < 0 ? resource : resource.substring(0, colon);
        if (colon < 0 || !KINDS.contains(kind)) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    ("resource '%s' must be <kind>:<name> with a kind of %s (the name may hold * wildcards), metrics,"
                                    + " or * for everything")
                            .formatted(resource, KINDS));
        }
        String name = resource.substring(colon + 1);
        if (name.isEmpty()
                || name.length() > 255
                || !name.chars()
                        .allMatch(c -> (c >= 'a' && c <= 'z')
                                || (c >= 'A' && c <= 'Z')
                                || (c >= '0' && c <= '9')
                                || c == '_'
                                || c == '-'
                                || c == '.'
                                || c == '*')) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "resource '%s': a name is 1-255 letters, digits, '_', '-', '.' and '*' wildcards"
                            .formatted(resource));
        }
    }
}
