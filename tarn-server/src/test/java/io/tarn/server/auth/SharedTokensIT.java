package io.tarn.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.DataDir;
import io.tarn.server.metadata.MetadataStore;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokens of two servers that share one metadata database (a real PostgreSQL): a token made on one works on the other
 * within a second, one revoked stops working within {@link Tokens#REFRESH}, each admin token is its own server's, and
 * while the database is gone requests are checked against the tokens read last.
 */
class SharedTokensIT {
    @TempDir
    Path dir;

    @Test
    void tokensMadeOrRevokedOnOneServerAreSoOnTheOtherAndTheyOutliveTheDatabaseForAWhile() throws Exception {
        EmbeddedPostgres postgres = EmbeddedPostgres.start();
        String url = postgres.getJdbcUrl("postgres", "postgres");
        try (MetadataStore first = MetadataStore.open(url, "postgres", "postgres");
                MetadataStore second = MetadataStore.open(url, "postgres", "postgres")) {
            Tokens one = Tokens.open(first, dataDir("one"));
            Tokens other = Tokens.open(second, dataDir("other"));
            String oneAdmin = Tokens.readAdminToken(dir.resolve("one"));
            String otherAdmin = Tokens.readAdminToken(dir.resolve("other"));
            assertThat(name(one, oneAdmin)).isEqualTo(Tokens.ADMIN);
            assertThat(name(other, otherAdmin)).isEqualTo(Tokens.ADMIN);
            // each server's admin token is its own data directory's
            assertRefused(other, oneAdmin);

            String ci = one.create("ci").token();
            await("the new token on the other server", () -> accepted(other, ci));
            one.revoke("ci");
            assertRefused(one, ci);
            await("the revoked token refused by the other server", () -> !accepted(other, ci));

            String reader = other.create("reader").token();
            await("the other server's token here", () -> accepted(one, reader));
            postgres.close();
            Thread.sleep(Tokens.REFRESH.plusSeconds(1).toMillis());
            assertThat(name(one, reader)).isEqualTo("reader");
            assertThat(name(one, oneAdmin)).isEqualTo(Tokens.ADMIN);
            assertRefused(one, ci);
        }
    }

    private DataDir dataDir(String name) throws Exception {
        return new DataDir(Files.createDirectories(dir.resolve(name)));
    }

    private static String name(Tokens tokens, String token) {
        return tokens.authenticate(Optional.of("Bearer " + token));
    }

    private static boolean accepted(Tokens tokens, String token) {
        try {
            name(tokens, token);
            return true;
        } catch (TarnException e) {
            return false;
        }
    }

    private static void assertRefused(Tokens tokens, String token) {
        assertThatThrownBy(() -> name(tokens, token))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED));
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
