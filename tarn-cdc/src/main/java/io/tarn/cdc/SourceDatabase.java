package io.tarn.cdc;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A database Tarn captures, and what Tarn asks it directly (Debezium does not tell): whether it can be captured, its
 * tables' columns and keys, how far a capture is behind, and what a capture leaves in it. Errors name the database
 * problem but never the password.
 */
public interface SourceDatabase {
    /**
     * The database behind a connection URL.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for a kind Tarn does not capture
     */
    static SourceDatabase of(ConnectionUrl url, String user, String password) {
        return switch (url.kind()) {
            case ConnectionUrl.POSTGRESQL -> new PostgresDatabase(url, user, password);
            case ConnectionUrl.MARIADB -> new MariaDbDatabase(url, user, password);
            default ->
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST, "databases of kind '%s' cannot be captured".formatted(url.kind()));
        };
    }

    ConnectionUrl url();

    /** Where tables are when no schema is said: PostgreSQL's {@code public}, MariaDB's database of the URL. */
    String defaultSchema();

    /**
     * Checks that the database can be captured and describes the tables.
     *
     * @param tables {@code schema.table} names
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming a missing table, a table without primary key, a
     *     column of a type Tarn cannot carry, or a database not set up for capture; {@link
     *     ErrorCode#SOURCE_UNAVAILABLE} when the database cannot be reached
     */
    List<TableSchema> describe(List<String> tables);

    /**
     * Makes ready in the database what a capture needs beyond Debezium's own, before it starts; idempotent.
     *
     * @return connector properties to add; none when nothing needs (or could be) made ready, and the capture then
     *     runs as Debezium sets itself up
     */
    default Map<String, String> prepare(String captureName, List<String> tables) {
        return Map.of();
    }

    /** Debezium's connector properties that reach this database and capture these tables. */
    Properties connector(String captureName, Path stateDirectory, List<String> tables);

    /** The JMX domain of Debezium's metrics for this connector, e.g. {@code debezium.postgres}. */
    String metricsDomain();

    /**
     * How far a capture is behind the database.
     *
     * @param captured Debezium's source offset of the newest change the capture wrote; empty before the first
     * @throws TarnException {@link ErrorCode#SOURCE_UNAVAILABLE} when the database cannot be reached
     */
    Lag lag(String captureName, Map<String, ?> captured);

    /**
     * Removes what a capture keeps in the database (PostgreSQL: its replication slot and publication).
     *
     * @throws TarnException {@link ErrorCode#SOURCE_UNAVAILABLE} when the database cannot be reached or refuses
     */
    void dropCapture(String captureName);

    /**
     * Where a capture stands against its database.
     *
     * @param captured position of the newest change written, in the database's notation ({@code 0/16B3748},
     *     {@code mariadb-bin.000003:1234}); empty before the first
     * @param server the database's current position
     * @param confirmed up to where the database knows the capture has its changes (PostgreSQL's slot); else empty
     * @param bytesBehind log bytes written by the database after the captured position
     * @param retainedBytes log the database keeps only because the capture has not confirmed it
     * @param active whether the capture is connected (PostgreSQL's slot is active)
     * @param warnings conditions of the database's log that need attention
     */
    record Lag(
            String captured,
            String server,
            String confirmed,
            long bytesBehind,
            long retainedBytes,
            boolean active,
            List<String> warnings) {
        public Lag {
            warnings = List.copyOf(warnings);
        }
    }
}
