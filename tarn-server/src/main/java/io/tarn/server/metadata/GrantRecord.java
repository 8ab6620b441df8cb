package io.tarn.server.metadata;

import static java.util.Objects.requireNonNull;

/**
 * A grant as stored.
 *
 * @param granteeKind {@code principal} (a token's name) or {@code role}
 * @param privilege {@code read}, {@code write} or {@code manage}
 * @param resource the resource pattern ({@code table:web.*})
 */
public record GrantRecord(String granteeKind, String grantee, String privilege, String resource) {
    public GrantRecord {
        requireNonNull(granteeKind, "granteeKind is null");
        requireNonNull(grantee, "grantee is null");
        requireNonNull(privilege, "privilege is null");
        requireNonNull(resource, "resource is null");
    }
}
