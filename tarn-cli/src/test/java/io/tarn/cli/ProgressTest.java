package io.tarn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void aLineShowsTheShareDoneTheRateAndTheTimeLeftAtThatRate() {
        assertThat(Progress.line("writing", "records", 6_000, 12_000, 2.0))
                .isEqualTo("writing [############------------] 6,000/12,000 records  3,000/s  ETA 2 s");
        assertThat(Progress.line("snapshot", "tables", 0, 3, 0.0))
                .isEqualTo("snapshot [------------------------] 0/3 tables  0/s  ETA –");
        assertThat(Progress.line("writing", "records", 250, 250, 125.0))
                .isEqualTo("writing [########################] 250/250 records  2/s  done in 2 min 5 s");
        assertThat(Progress.duration(7_260)).isEqualTo("2 h 1 min");
    }

    @Test
    void aBarDrawsInPlaceOnlyWhenShownAndEndsItsLine() {
        StringWriter err = new StringWriter();
        Progress bar = Progress.of(true, new PrintWriter(err), "writing", "records", 10);
        bar.at(10);
        bar.end();
        assertThat(err.toString())
                .startsWith("\rwriting [########################] 10/10 records  ")
                .endsWith("\n");

        StringWriter quiet = new StringWriter();
        Progress hidden = Progress.of(false, new PrintWriter(quiet), "writing", "records", 10);
        hidden.at(10);
        hidden.end();
        assertThat(quiet.toString()).isEmpty();
        assertThat(Progress.shown("never")).isFalse();
        assertThat(Progress.shown("always")).isTrue();
    }

    @Test
    void aBlockAlignsItsValuesAndIndentsWhatHasSeveralLines() throws Exception {
        String block = new Block()
                .add("name", "orders-to-lake")
                .add("last checkpoint", "#4")
                .add("savepoint", "")
                .lines("sql", java.util.List.of("SELECT 1", "FROM x"))
                .render();
        assertThat(block)
                .isEqualTo("name             orders-to-lake\nlast checkpoint  #4\nsql\n  SELECT 1\n  FROM x\n");
        JsonNode node = ApiClient.JSON.readTree(
                "{\"name\":\"v\",\"freshness\":{\"lagRecords\":0},\"key\":[\"a\",\"b\"],\"lastError\":null}");
        assertThat(Block.of(node))
                .isEqualTo("name" + " ".repeat(19) + "v\nfreshness.lag records  0\nkey" + " ".repeat(20) + "a, b\n");
    }
}
