package io.tarn.server.http;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.Optional;

/** Decides who sent a request from its {@code Authorization} header. */
@FunctionalInterface
public interface Authenticator {
    /**
     * @param authorization the header's value, if the request has one
     * @return the name of the principal the request's token belongs to
     * @throws TarnException {@link ErrorCode#UNAUTHENTICATED} when there is no token or it is not valid
     */
    String authenticate(Optional<String> authorization);
}
