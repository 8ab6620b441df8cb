package io.tarn.server.metadata;

import static java.util.Objects.requireNonNull;

/**
 * An API token as stored: its name and the SHA-256 of its secret, never the secret.
 *
 * @param hash lower-case hex SHA-256 of the token's text
 * @param createdAt epoch milliseconds
 */
public record TokenRecord(String name, String hash, long createdAt) {
    public TokenRecord {
        requireNonNull(name, "name is null");
        requireNonNull(hash, "hash is null");
    }
}
