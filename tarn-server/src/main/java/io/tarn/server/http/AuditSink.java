package io.tarn.server.http;

import java.util.concurrent.CompletableFuture;

/** Where the API's calls are recorded. */
@FunctionalInterface
public interface AuditSink {
    /** Records none. */
    AuditSink NONE = event -> CompletableFuture.completedFuture(null);

    /** @return done when the event is stored durably */
    CompletableFuture<Void> record(AuditEvent event);
}
