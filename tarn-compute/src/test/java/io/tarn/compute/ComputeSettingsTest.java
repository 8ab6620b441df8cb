package io.tarn.compute;

import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.pipeline.StartFrom;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ComputeSettingsTest {
    private static final ComputeSettings SETTINGS = ComputeSettings.from(
                    TarnConfig.defaults()
                            .with(ConfigKeys.COMPUTE_PARALLELISM, "4")
                            .with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "2s"),
                    StateStorage.root("", Path.of("/tmp/state")))
            .withQuietPipeline("tarn-audit", Duration.ofSeconds(30));

    private static Map<String, String> jobOptions(String pipeline) {
        return new JobSetup(
                        new FlinkAccess(URI.create("http://localhost:8081"), Map.of(), Optional.empty()),
                        SETTINGS,
                        Map.of(),
                        "localhost:9092")
                .pipelineConfig(pipeline, Optional.empty());
    }

    @Test
    void aQuietPipelineRunsAtParallelismOneAndCheckpointsAtItsOwnInterval() {
        assertThat(jobOptions("tarn-audit"))
                .containsEntry("parallelism.default", "1")
                .containsEntry("execution.checkpointing.interval", "30000 ms");
    }

    @Test
    void aQuietPipelinesReaderFetchesOnceASecondOrAMegabyteOthersAtEachRecord() {
        String quiet = StreamTables.ddl(
                LandingJobTest.CLICKS, "localhost:9092", "tarn-audit", false, StartFrom.EARLIEST, true);
        assertThat(quiet)
                .contains("'properties.fetch.min.bytes' = '1048576'", "'properties.fetch.max.wait.ms' = '1000'");
        assertThat(StreamTables.ddl(LandingJobTest.CLICKS, "localhost:9092", "orders-to-lake", false))
                .doesNotContain("fetch.");
    }

    @Test
    void everyOtherPipelineHasTheConfiguredParallelismAndInterval() {
        assertThat(jobOptions("orders-to-lake"))
                .containsEntry("parallelism.default", "4")
                .containsEntry("execution.checkpointing.interval", "2000 ms")
                .containsEntry("pipeline.name", PipelineJobs.jobName("orders-to-lake"));
    }
}
