package io.tarn.server;

import static io.tarn.server.Fixtures.await;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.io.Directories;
import io.tarn.server.auth.Tokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Tarn server for one of the REST Compatibility Kit's suites, started before it and closed after it (a suite expects
 * a catalog without the namespaces it creates): the kit's catalog client reads its {@code uri} and {@code token} from
 * system properties. Some of the kit's cases put tables and views in temporary directories of their own, which the
 * server lets tables use ({@code lake.extra-locations}).
 */
final class IcebergRestServer implements BeforeAllCallback {
    private static final Map<String, String> KIT_OPTIONS =
            Map.of("rck.requires-namespace-create", "true", "rck.supports-serverside-retry", "true");

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(ExtensionContext.Namespace.create(IcebergRestServer.class))
                .getOrComputeIfAbsent(Running.class, key -> start(), Running.class);
    }

    private static Running start() {
        try {
            Path dataDir = Files.createTempDirectory("tarn-rck").toRealPath();
            TarnServer server = TarnServer.start(Fixtures.localServer(dataDir)
                    .with(ConfigKeys.LAKE_EXTRA_LOCATIONS, System.getProperty("java.io.tmpdir")));
            Http http = Http.of(server);
            await(
                    "the server to be ready",
                    Duration.ofSeconds(60),
                    () -> http.get("/v1/ready").status() == 200);
            System.setProperty("uri", server.httpAddress() + "/iceberg");
            System.setProperty("token", Tokens.readAdminToken(server.dataDir()));
            KIT_OPTIONS.forEach(System::setProperty);
            return new Running(server, dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The server, closed (and its data deleted) when the suite ends. */
    private record Running(TarnServer server, Path dataDir) implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() {
            try {
                server.close();
            } finally {
                System.clearProperty("uri");
                System.clearProperty("token");
                KIT_OPTIONS.keySet().forEach(System::clearProperty);
                Directories.deleteRecursively(dataDir);
            }
        }
    }
}
