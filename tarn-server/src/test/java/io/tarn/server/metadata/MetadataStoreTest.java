package io.tarn.server.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.server.metadata.PipelineRecord.DesiredState;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metadata store on a real SQLite file: changes of several statements are all stored or none. */
class MetadataStoreTest {
    @TempDir
    Path dir;

    @Test
    void aTransactionThatFailsLeavesNothingAndOneThatEndsIsKeptAcrossAReopen() {
        Path file = dir.resolve("tarn.db");
        try (MetadataStore store = MetadataStore.open(file)) {
            assertThatThrownBy(() -> store.transaction(() -> {
                        store.putPipeline(pipeline("half"));
                        store.addPipelineJob("half", "job-1");
                        throw new IllegalStateException("a crash between the statements");
                    }))
                    .hasMessage("a crash between the statements");
            assertThat(store.pipeline("half")).isEmpty();
            assertThat(store.pipelineJobs("half")).isEmpty();

            store.transaction(() -> {
                store.putPipeline(pipeline("whole"));
                store.transaction(() -> store.addPipelineJob("whole", "job-2")); // part of the outer one
                store.putPipelineTables("whole", Optional.of(Set.of("stream.events", "lake.web.events")));
            });
        }
        try (MetadataStore store = MetadataStore.open(file)) {
            assertThat(store.pipeline("whole").orElseThrow().sql()).isEqualTo("INSERT INTO x SELECT 1");
            assertThat(store.pipelineJobs("whole")).containsExactly("job-2");
            assertThat(store.pipelineTables("whole")).contains(Set.of("stream.events", "lake.web.events"));
            store.deletePipeline("whole");
            assertThat(store.pipeline("whole")).isEmpty();
            assertThat(store.pipelineJobs("whole")).isEmpty();
            assertThat(store.pipelineTables("whole")).isEmpty();
        }
    }

    private static PipelineRecord pipeline(String name) {
        return new PipelineRecord(
                name,
                "INSERT INTO x SELECT 1",
                DesiredState.RUNNING,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                1_000L);
    }
}
