package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import org.junit.jupiter.api.Test;

/** Where the lake catalog may be kept: SQLite or PostgreSQL only, and its password never shown. */
class LakeCatalogDatabaseTest {
    @Test
    void anotherKindOfDatabaseIsRefusedWithoutEchoingItsUrl() {
        assertThatThrownBy(() -> new LakeCatalog.Database("jdbc:mysql://db:3306/lake?password=hunter2", "u", "p"))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessage("lake.catalog-uri must be a jdbc:postgresql: URL (or empty: SQLite in the data directory)");
    }

    @Test
    void itsTextNamesTheUrlAndNeverThePassword() {
        LakeCatalog.Database database = new LakeCatalog.Database("jdbc:postgresql://db:5432/lake", "tarn", "hunter2");
        assertThat(database.toString()).isEqualTo("Database[jdbc:postgresql://db:5432/lake]");
    }
}
