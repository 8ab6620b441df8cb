package io.tarn.core.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SqlScriptTest {
    @Test
    void splitsAtSemicolonsOutsideLiteralsAndComments() {
        String script =
                """
                -- a comment; with a semicolon
                CREATE TABLE t (a STRING COMMENT 'x;y');
                /* block; comment */ INSERT INTO `we;ird` SELECT 'it''s; fine' FROM s;
                ;
                """;
        assertThat(SqlScript.split(script))
                .containsExactly(
                        "-- a comment; with a semicolon\nCREATE TABLE t (a STRING COMMENT 'x;y')",
                        "/* block; comment */ INSERT INTO `we;ird` SELECT 'it''s; fine' FROM s");
    }

    @Test
    void unclosedLiteralIsAnError() {
        assertThatThrownBy(() -> SqlScript.split("SELECT 'oops")).hasMessage("unclosed ' starting at character 7");
        assertThatThrownBy(() -> SqlScript.split("SELECT 1 /* oops")).hasMessage("unclosed /* comment at character 9");
    }

    @Test
    void stripsLeadingComments() {
        assertThat(SqlScript.stripComments("-- x\n /* y */ INSERT INTO t")).isEqualTo("INSERT INTO t");
    }

    @Test
    void quotesTheStreamQualifierOnlyWhereItIsAQualifier() {
        assertThat(SqlScript.quoteQualifier(
                        "SELECT stream, s.stream FROM stream.clicks JOIN STREAM . views ON 'stream.x' = \"stream\".y -- stream.z",
                        "stream"))
                .isEqualTo(
                        "SELECT stream, s.stream FROM `stream`.clicks JOIN `stream` . views ON 'stream.x' = \"stream\".y -- stream.z");
        assertThat(SqlScript.quoteQualifier(
                        "TABLE(TUMBLE(TABLE stream.clicks, DESCRIPTOR(t), INTERVAL '1' MINUTE))", "stream"))
                .isEqualTo("TABLE(TUMBLE(TABLE `stream`.clicks, DESCRIPTOR(t), INTERVAL '1' MINUTE))");
    }

    @Test
    void tablesAreRenamedWhereTheyAreNamedOutsideLiteralsAndComments() {
        Map<String, String> swap = Map.of("web.clicks", "web.clicks_v2", "web.clicks_v2", "web.clicks");
        assertThat(SqlScript.renameTables(
                        """
                        CREATE TABLE lake.web.clicks_v2 (id BIGINT); -- lake.web.clicks stays in a comment
                        INSERT INTO `lake`.`web`.`clicks` SELECT id, 'lake.web.clicks' FROM stream.clicks;
                        INSERT INTO lake . web . clicks_v2 SELECT * FROM lake.web.clicks_old, lake.web;
                        INSERT INTO other.web.clicks SELECT 1""",
                        "lake",
                        swap))
                .isEqualTo(
                        """
                        CREATE TABLE `lake`.`web`.`clicks` (id BIGINT); -- lake.web.clicks stays in a comment
                        INSERT INTO `lake`.`web`.`clicks_v2` SELECT id, 'lake.web.clicks' FROM stream.clicks;
                        INSERT INTO `lake`.`web`.`clicks` SELECT * FROM lake.web.clicks_old, lake.web;
                        INSERT INTO other.web.clicks SELECT 1""");
    }
}
