package io.tarn.server.http;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.server.auth.Permission;
import java.util.Collection;

/** Decides what an authenticated principal may do. */
@FunctionalInterface
public interface Authorizer {
    boolean allows(String principal, Permission permission);

    /**
     * @throws TarnException {@link ErrorCode#NOT_PERMITTED} naming the first permission the principal lacks
     */
    default void require(String principal, Collection<Permission> needed) {
        for (Permission permission : needed) {
            boolean allowed = allows(principal, permission);
            AuditTrail.note(permission, allowed);
            if (!allowed) {
                throw new TarnException(
                        ErrorCode.NOT_PERMITTED,
                        "token '%s' lacks the privilege %s on %s"
                                .formatted(principal, permission.privilege().text(), permission.resource()));
            }
        }
    }
}
