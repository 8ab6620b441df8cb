package io.tarn.server.http;

import io.tarn.server.auth.Grant;
import io.tarn.server.auth.Permission;
import io.tarn.server.auth.Privilege;
import io.tarn.server.metrics.TarnMetrics;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code GET /metrics}: Tarn's metrics in Prometheus' text format ({@link TarnMetrics}), with a token like every other
 * route (Prometheus sends one with {@code authorization: {credentials: <token>}} in its scrape configuration).
 */
public final class MetricsApi {
    private final TarnMetrics metrics;

    /** @param metrics null only to list the routes */
    public MetricsApi(TarnMetrics metrics) {
        this.metrics = metrics;
    }

    public List<Route> routes() {
        return List.of(new Route("GET", "/metrics", r -> {
                    byte[] text = metrics.scrape().getBytes(StandardCharsets.UTF_8);
                    return Response.ok(new Response.Streamed() {
                        @Override
                        public void writeTo(OutputStream out) throws java.io.IOException {
                            out.write(text);
                        }

                        @Override
                        public String contentType() {
                            return "text/plain; version=0.0.4; charset=utf-8";
                        }

                        @Override
                        public void close() {}
                    });
                })
                .requiring(r -> List.of(new Permission(Privilege.READ, Grant.METRICS))));
    }
}
