package io.tarn.cdc;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;

/** PostgreSQL from Maven Central (zonky's embedded server) for tests, set up for logical decoding as sources need. */
public final class EmbeddedPostgreSql {
    private EmbeddedPostgreSql() {}

    /**
     * Starts a server on a free port; user and password {@code postgres}. Zonky turns {@code synchronous_commit} off,
     * with which logical decoding lags: it is on here, as on a real server.
     */
    public static EmbeddedPostgres start() throws IOException {
        return EmbeddedPostgres.builder()
                .setServerConfig("wal_level", "logical")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("max_replication_slots", "8")
                .setServerConfig("max_wal_senders", "8")
                .start();
    }
}
