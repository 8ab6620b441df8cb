package io.tarn.server;

import io.tarn.core.config.ConfigKeys;
import io.tarn.server.auth.Tokens;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Tarn server for one of the REST Compatibility Kit's suites, started before it and closed after it (a suite expects
 * a catalog without the namespaces it creates): the kit's catalog client reads its {@code uri} and {@code token} from
 * system properties. Some of the kit's cases put tables and views in temporary directories of their own, which the
 * server lets tables use ({@code lake.extra-locations}).
 */
final class IcebergRestServer implements BeforeAllCallback, AfterAllCallback {
    private static final Map<String, String> KIT_OPTIONS =
            Map.of("rck.requires-namespace-create", "true", "rck.supports-serverside-retry", "true");

    private final TarnServerExtension tarn = new TarnServerExtension(
            config -> config.with(ConfigKeys.LAKE_EXTRA_LOCATIONS, System.getProperty("java.io.tmpdir")));

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        tarn.beforeAll(context);
        System.setProperty("uri", tarn.server().httpAddress() + "/iceberg");
        System.setProperty("token", Tokens.readAdminToken(tarn.dataDir()));
        KIT_OPTIONS.forEach(System::setProperty);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        try {
            tarn.afterAll(context);
        } finally {
            System.clearProperty("uri");
            System.clearProperty("token");
            KIT_OPTIONS.keySet().forEach(System::clearProperty);
        }
    }
}
