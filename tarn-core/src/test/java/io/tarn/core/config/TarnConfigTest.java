package io.tarn.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarnConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsOfEveryKeyParse() {
        TarnConfig config = TarnConfig.defaults();
        assertThat(config.get(ConfigKeys.HTTP_PORT)).isEqualTo(8080);
        assertThat(config.get(ConfigKeys.LOG_PORT)).isEqualTo(9092);
        assertThat(config.get(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL)).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.get(ConfigKeys.LOG_BOOTSTRAP_SERVERS)).isEmpty();
        ConfigKeys.ALL.forEach(
                key -> assertThat(key.defaultValue()).as(key.name()).isNotNull());
    }

    @Test
    void fileThenEnvironmentThenOverridesWin() throws IOException {
        Path file = dir.resolve("tarn.yaml");
        Files.writeString(
                file,
                """
                http:
                  port: 9000
                  threads: 4
                compute.checkpoint-interval: 500ms
                log:
                  port: 19092
                """);
        TarnConfig config = TarnConfig.load(
                Optional.of(file),
                Map.of("TARN_HTTP_THREADS", "8", "TARN_LOG_PORT", "29092", "UNRELATED", "x"),
                Map.of("log.port", "39092"));
        assertThat(config.get(ConfigKeys.HTTP_PORT)).isEqualTo(9000);
        assertThat(config.get(ConfigKeys.HTTP_THREADS)).isEqualTo(8);
        assertThat(config.get(ConfigKeys.LOG_PORT)).isEqualTo(39092);
        assertThat(config.get(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL)).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void unknownKeySuggestsTheNearestOne() throws IOException {
        Path file = dir.resolve("tarn.yaml");
        Files.writeString(file, "log:\n  bootstrap-server: kafka:9092\n");
        assertThatThrownBy(() -> TarnConfig.load(Optional.of(file), Map.of(), Map.of()))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessage(
                        "unknown config key 'log.bootstrap-server' in config file; did you mean 'log.bootstrap-servers'?");
        assertThatThrownBy(() -> TarnConfig.load(Optional.empty(), Map.of(), Map.of("http.prot", "1")))
                .hasMessage("unknown config key 'http.prot' in override; did you mean 'http.port'?");
    }

    @Test
    void badValuesNameTheKeyAndTheValue() {
        assertThatThrownBy(() -> TarnConfig.load(Optional.empty(), Map.of("TARN_HTTP_PORT", "eighty"), Map.of()))
                .hasMessage("config key 'http.port' expects integer, got 'eighty'");
        assertThatThrownBy(() -> TarnConfig.load(Optional.empty(), Map.of(), Map.of("http.port", "70000")))
                .hasMessage("config key 'http.port' must be between 0 and 65535, got '70000'");
        assertThatThrownBy(() -> TarnConfig.load(
                        Optional.empty(), Map.of(), Map.of("compute.checkpoint-interval", "2 fortnights")))
                .hasMessage(
                        "config key 'compute.checkpoint-interval' expects duration (e.g. 500ms, 2s, 5min, 1h), got '2 fortnights'");
    }

    @Test
    void unreadableFileIsAConfigError() throws IOException {
        Path file = dir.resolve("broken.yaml");
        Files.writeString(file, "http: [unclosed");
        assertThatThrownBy(() -> TarnConfig.load(Optional.of(file), Map.of(), Map.of()))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessageStartingWith("cannot read config file 'broken.yaml'");
    }

    @Test
    void referenceInDocsIsGeneratedFromTheKeys() throws IOException {
        Path docs = Path.of(System.getProperty("user.dir")).getParent().resolve("docs/configuration.md");
        assertThat(Files.readString(docs))
                .as(
                        "docs/configuration.md is stale; regenerate it: java -cp tarn-core/target/classes io.tarn.core.config.ConfigReference docs/configuration.md")
                .isEqualTo(ConfigReference.markdown());
        ConfigKeys.ALL.forEach(key ->
                assertThat(ConfigReference.markdown()).contains("`" + key.name() + "`", key.environmentVariable()));
    }

    @Test
    void editDistanceCountsInsertionsDeletionsAndSubstitutions() {
        assertThat(TarnConfig.editDistance("http.port", "http.port")).isZero();
        assertThat(TarnConfig.editDistance("http.prot", "http.port")).isEqualTo(2);
        assertThat(TarnConfig.editDistance("", "abc")).isEqualTo(3);
    }

    @Test
    void durationsAreWrittenAsTheConfigurationWritesThem() {
        Assertions.assertThat(ConfigKeys.text(Duration.ofSeconds(2))).isEqualTo("2s");
        Assertions.assertThat(ConfigKeys.text(Duration.ofMillis(1500))).isEqualTo("1500ms");
        Assertions.assertThat(ConfigKeys.text(Duration.ofMinutes(5))).isEqualTo("5min");
    }
}
