package io.tarn.server.metadata;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A change data capture source as stored. The password is kept only here, in {@code tarn.db} (readable by its owner
 * only), never in logs, API responses or Kafka.
 *
 * @param type the database kind, {@code postgresql}
 * @param connection the validated connection URL, without credentials
 * @param tables captured tables as {@code schema.table}
 * @param mirror whether Tarn keeps a lake table per captured table in step with it
 */
public record SourceRecord(
        String name,
        String type,
        String connection,
        String user,
        String password,
        List<String> tables,
        boolean mirror,
        long createdAt) {
    public SourceRecord {
        requireNonNull(name, "name is null");
        requireNonNull(type, "type is null");
        requireNonNull(connection, "connection is null");
        requireNonNull(user, "user is null");
        requireNonNull(password, "password is null");
        tables = List.copyOf(tables);
    }

    @Override
    public String toString() { // never the password
        return "SourceRecord[name=%s, type=%s, connection=%s, user=%s, tables=%s, mirror=%s]"
                .formatted(name, type, connection, user, tables, mirror);
    }
}
