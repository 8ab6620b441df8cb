package io.tarn.compute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compute.cluster's address, and the jars shipped with each job to a session cluster. */
class SessionClusterTest {
    @TempDir
    Path dir;

    @Test
    void theAddressIsAnHttpUrlWithAHostAndAPortAndNothingElse() {
        assertThat(SessionCluster.restAddress("http://jobmanager:8081"))
                .isEqualTo(URI.create("http://jobmanager:8081"));
        assertThat(SessionCluster.restAddress(" http://10.0.0.7:8081/ ")).isEqualTo(URI.create("http://10.0.0.7:8081"));
        assertThat(SessionCluster.restAddress("HTTPS://jobmanager:8443"))
                .isEqualTo(URI.create("https://jobmanager:8443"));
        for (String refused : List.of(
                "jobmanager:8081",
                "http://jobmanager",
                "ftp://jobmanager:8081",
                "file:///etc/passwd",
                "http://admin:s3cret@jobmanager:8081",
                "http://jobmanager:8081/jobs",
                "http://jobmanager:8081?x=1",
                "http://job manager:8081")) {
            assertThatThrownBy(() -> SessionCluster.restAddress(refused))
                    .as(refused)
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                    .hasMessage("compute.cluster must be the https://host:port (or http://) address of a Flink"
                            + " JobManager's REST endpoint, with no user, path or query");
        }
    }

    @Test
    void aClusterThatDoesNotAnswerIsRefusedAtStart() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        assertThatThrownBy(() -> SessionCluster.connect("http://127.0.0.1:" + port, Optional.empty(), dir))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.COMPUTE_UNAVAILABLE))
                .hasMessageStartingWith("Flink REST API did not answer");
    }

    @Test
    void httpsGoesWithAKeyStoreAndHttpWithout() {
        RestTls tls = RestTls.open(dir.resolve("tls"));
        assertThatThrownBy(() -> SessionCluster.connect("https://127.0.0.1:1", Optional.empty(), dir))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessage("an https:// compute.cluster needs compute.cluster-tls-store");
        assertThatThrownBy(() -> SessionCluster.connect("http://127.0.0.1:1", Optional.of(tls), dir))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessage("compute.cluster-tls-store is set but compute.cluster is http://: give it as https://");
        assertThatThrownBy(() -> RestTls.of(dir.resolve("tls").resolve("cluster.p12"), "not its password"))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessageStartingWith("compute.cluster-tls-store cannot be read with its password: ")
                .hasMessageNotContaining("not its password");
    }

    @Test
    void aLibraryIsFoundInTheVersionTheBuildListedElseInAnother() {
        JobJars.Artifact clients =
                JobJars.Artifact.of(Path.of("/repo/org/apache/kafka/kafka-clients/4.3.0/kafka-clients-4.3.0.jar"));
        assertThat(clients).isEqualTo(new JobJars.Artifact("kafka-clients", "kafka-clients-4.3.0.jar"));
        Path exact = Path.of("/lib/kafka-clients-4.3.0.jar");
        Path other = Path.of("/lib/kafka-clients-4.2.0.jar");
        Path lookalike = Path.of("/lib/kafka-clients-extra-4.3.0.jar");
        assertThat(JobJars.find(clients, List.of(other, exact))).contains(exact);
        assertThat(JobJars.find(clients, List.of(lookalike, other))).contains(other);
        assertThat(JobJars.find(clients, List.of(lookalike))).isEqualTo(Optional.empty());
    }

    @Test
    void everyListedLibraryAndTarnsOwnModulesAreShipped() throws IOException {
        List<String> jars = JobJars.resolve(dir);
        List<String> names = jars.stream()
                .map(url -> Path.of(URI.create(url)).getFileName().toString())
                .toList();
        assertThat(names)
                .anyMatch(n -> n.startsWith("flink-connector-kafka-"))
                .anyMatch(n -> n.startsWith("kafka-clients-"))
                .anyMatch(n -> n.startsWith("iceberg-flink-"))
                .anyMatch(n -> n.startsWith("iceberg-aws-bundle-"))
                .noneMatch(n -> n.startsWith("flink-runtime-") || n.startsWith("duckdb"))
                .as("JDBC drivers are the cluster's: DriverManager serves a driver to the loader that registered it")
                .noneMatch(n -> n.startsWith("postgresql-") || n.startsWith("sqlite-jdbc-"));
        // this module's own classes are a directory here: packed into a jar holding them
        Path compute = Path.of(URI.create(jars.get(2)));
        try (JarFile jar = new JarFile(compute.toFile())) {
            assertThat(jar.getEntry("io/tarn/compute/JobJars.class")).isNotNull();
        }
    }
}
