package io.tarn.app.launcher;

import io.tarn.core.config.TarnConfig;
import io.tarn.server.TarnServer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code tarn server}: runs Tarn until SIGTERM or Ctrl-C. */
@Command(
        name = "server",
        mixinStandardHelpOptions = true,
        description = "Run Tarn as a long-lived service on its embedded defaults.")
final class ServerCommand implements Callable<Integer> {
    @Mixin
    ServerOptionsMixin options = new ServerOptionsMixin();

    @Override
    public Integer call() throws Exception {
        TarnConfig config = options.load();
        ServerOptionsMixin.useTemporaryDirectoryIn(config.dataDir());
        TarnServer server = TarnServer.start(config);
        OrderlyStop.install(server::close);
        ServerOptionsMixin.printReady(server);
        OrderlyStop.awaitExit();
        return 0;
    }
}
