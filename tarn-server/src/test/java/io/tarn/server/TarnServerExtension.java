package io.tarn.server;

import io.tarn.core.config.TarnConfig;
import io.tarn.core.io.Directories;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One Tarn server in this JVM for a test class, on free ports in a data directory of its own, ready ({@code GET
 * /v1/ready} 200), and an HTTP client with its admin token. Register it as a static field: {@code @RegisterExtension
 * static final TarnServerExtension tarn}.
 */
final class TarnServerExtension implements BeforeAllCallback, AfterAllCallback {
    private final UnaryOperator<TarnConfig> configure;
    private Path dataDir;
    private TarnServer server;
    private Http http;

    TarnServerExtension() {
        this(UnaryOperator.identity());
    }

    /** @param configure changes to the test configuration ({@link Fixtures#localServer}) */
    TarnServerExtension(UnaryOperator<TarnConfig> configure) {
        this.configure = configure;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dataDir = Files.createTempDirectory("tarn-it").toRealPath();
        server = TarnServer.start(configure.apply(Fixtures.localServer(dataDir)));
        http = Fixtures.awaitReady(server);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            Directories.deleteRecursively(dataDir);
        }
    }

    TarnServer server() {
        return server;
    }

    /** A client with the admin token. */
    Http http() {
        return http;
    }

    Path dataDir() {
        return dataDir;
    }
}
