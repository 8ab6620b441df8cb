package io.tarn.server.auth;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.Locale;

/**
 * What a grant lets its principal do with a resource. Each implies the ones before it: {@code manage} (create, delete,
 * change settings) implies {@code write} (produce records, commit rows, start and stop), which implies {@code read}
 * (describe, query, consume).
 */
public enum Privilege {
    READ,
    WRITE,
    MANAGE;

    /** Whether holding this privilege is enough for {@code needed}. */
    public boolean implies(Privilege needed) {
        return compareTo(needed) >= 0;
    }

    /** As grants and errors name it: {@code read}, {@code write}, {@code manage}. */
    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for another text
     */
    public static Privilege parse(String text) {
        for (Privilege privilege : values()) {
            if (privilege.text().equals(text)) {
                return privilege;
            }
        }
        throw new TarnException(
                ErrorCode.INVALID_REQUEST, "privilege '%s' must be read, write or manage".formatted(text));
    }
}
