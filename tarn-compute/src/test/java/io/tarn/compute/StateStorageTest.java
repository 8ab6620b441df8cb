package io.tarn.compute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compute.state-dir: a local directory or an s3:// prefix, and what Flink needs to reach the latter. */
class StateStorageTest {
    @TempDir
    Path dir;

    @Test
    void aLocalRootIsAnAbsoluteDirectoryCreatedIfMissing() {
        URI byDefault = StateStorage.root("", dir.resolve("pipeline-state"));
        assertThat(byDefault.toString()).isEqualTo("file://" + dir.resolve("pipeline-state"));
        assertThat(dir.resolve("pipeline-state")).isDirectory();
        assertThat(StateStorage.localDirectory(byDefault)).contains(dir.resolve("pipeline-state"));

        URI configured = StateStorage.root(dir.resolve("shared/state/").toString(), dir.resolve("unused"));
        assertThat(configured.toString()).isEqualTo("file://" + dir.resolve("shared/state"));
        assertThat(dir.resolve("shared/state")).isDirectory();
        assertThat(dir.resolve("unused")).doesNotExist();

        assertThatThrownBy(() -> StateStorage.root("state", dir))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessageStartingWith("compute.state-dir must be an absolute path or an s3://bucket/prefix");
    }

    @Test
    void anObjectStoreRootIsABucketAndAPrefixAndNothingElse() {
        assertThat(StateStorage.root("s3://lake", dir)).isEqualTo(URI.create("s3://lake"));
        assertThat(StateStorage.root("s3://lake/flink/state/", dir)).isEqualTo(URI.create("s3://lake/flink/state"));
        assertThat(StateStorage.root("s3a://lake/state", dir)).isEqualTo(URI.create("s3a://lake/state"));
        assertThat(StateStorage.localDirectory(URI.create("s3://lake/state"))).isEmpty();
        for (String refused : List.of(
                "s3://",
                "s3:///state",
                "s3://key:secret@lake/state",
                "s3://lake:9000/state",
                "s3://lake/state?versionId=1",
                "s3://lake/state#x",
                "s3://lake//state",
                "s3://lake/../state",
                "s3://lake/./state",
                "s3://lake/a b",
                "http://lake/state",
                "gs://lake/state",
                "hdfs://namenode/state")) {
            assertThatThrownBy(() -> StateStorage.root(refused, dir))
                    .as(refused)
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                    .hasMessage("compute.state-dir must be s3://bucket[/prefix] (no port, user, query or fragment,"
                            + " and no empty, '.' or '..' segment) or an absolute path");
        }
        try (var files = Files.list(dir)) {
            assertThat(files).as("nothing created for a refused location").isEmpty();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void anObjectStoreRootWithoutFlinksS3PluginIsRefusedSaying() {
        URI root = StateStorage.root("s3://lake/state", dir);
        TarnConfig config = TarnConfig.load(Optional.empty(), Map.of(), Map.of());
        for (String plugins : new String[] {null, dir.resolve("missing").toString(), dir.toString()}) {
            assertThatThrownBy(() -> StateStorage.initialize(root, config, plugins))
                    .as(String.valueOf(plugins))
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                    .hasMessageStartingWith("compute.state-dir in object storage needs Flink's s3-fs-hadoop plugin: set"
                            + " FLINK_PLUGINS_DIR");
        }
    }

    @Test
    void lakeS3SettingsBecomeFlinksS3OptionsOnlyWhenSet() {
        TarnConfig defaults = TarnConfig.load(Optional.empty(), Map.of(), Map.of());
        assertThat(StateStorage.flinkS3Options(defaults)).isEqualTo(Map.of("s3.path.style.access", "false"));
        TarnConfig set = TarnConfig.load(
                Optional.empty(),
                Map.of("TARN_LAKE_S3_SECRET_ACCESS_KEY", "secret"),
                Map.of(
                        "lake.s3.endpoint", "http://localhost:9000",
                        "lake.s3.region", "eu-west-1",
                        "lake.s3.path-style-access", "true",
                        "lake.s3.access-key-id", "key"));
        assertThat(StateStorage.flinkS3Options(set))
                .isEqualTo(Map.of(
                        "s3.endpoint", "http://localhost:9000",
                        "s3.endpoint.region", "eu-west-1",
                        "s3.path.style.access", "true",
                        "s3.access-key", "key",
                        "s3.secret-key", "secret"));
    }
}
