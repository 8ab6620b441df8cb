package io.tarn.app.demo;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.core.topic.WatermarkSpec;
import io.tarn.server.TarnServer;
import io.tarn.server.view.ViewService;
import java.util.List;
import java.util.Optional;

/**
 * The clickstream demo's objects: topic {@code clicks}, the two pipelines that fill the lake from it and two live views
 * of it.
 */
public final class Demo {
    public static final TopicSpec CLICKS = new TopicSpec(
            "clicks",
            2,
            List.of(
                    ColumnSpec.of("user_id", "STRING"),
                    ColumnSpec.of("page", "STRING"),
                    ColumnSpec.of("country", "STRING"),
                    ColumnSpec.of("referrer", "STRING"),
                    ColumnSpec.of("event_time", "TIMESTAMP(3)")),
            Optional.of(new WatermarkSpec("event_time", 5_000)));

    public static final PipelineSpec CLICKS_TO_LAKE = new PipelineSpec(
            "clicks-to-lake",
            """
            CREATE DATABASE IF NOT EXISTS lake.web;
            CREATE TABLE IF NOT EXISTS lake.web.clicks (
              user_id STRING, page STRING, country STRING, referrer STRING, event_time TIMESTAMP(3),
              kafka_partition INT, kafka_offset BIGINT);
            INSERT INTO lake.web.clicks
            SELECT user_id, page, country, referrer, event_time, kafka_partition, kafka_offset FROM stream.clicks;
            """);

    public static final PipelineSpec PAGEVIEWS_PER_MINUTE = new PipelineSpec(
            "pageviews-per-minute",
            """
            CREATE DATABASE IF NOT EXISTS lake.web;
            CREATE TABLE IF NOT EXISTS lake.web.pageviews_per_minute (
              window_start TIMESTAMP(3), window_end TIMESTAMP(3), page STRING, page_views BIGINT, unique_users BIGINT);
            INSERT INTO lake.web.pageviews_per_minute
            SELECT window_start, window_end, page, COUNT(*) AS page_views, COUNT(DISTINCT user_id) AS unique_users
            FROM TABLE(TUMBLE(TABLE stream.clicks, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end, page;
            """);

    /** Page views and unique users per page since the demo started, kept up to date as clicks arrive. */
    public static final ViewService.Request PV_UV = new ViewService.Request(
            "pv_uv",
            "SELECT page, COUNT(*) AS page_views, COUNT(DISTINCT user_id) AS unique_users FROM stream.clicks"
                    + " GROUP BY page",
            List.of(),
            false);

    /** How many page views in one sliding minute make a user look like a bot. */
    public static final int RAPID_CLICKS = 3;

    /**
     * A fraud-style signal: users with more than {@link #RAPID_CLICKS} page views in a minute, over minutes sliding by
     * 10 s. Window results are only ever added, so the view names its key.
     */
    public static final ViewService.Request RAPID_USERS = new ViewService.Request(
            "rapid_users",
            ("SELECT user_id, window_end, COUNT(*) AS clicks FROM TABLE(HOP(TABLE stream.clicks, DESCRIPTOR(event_time),"
                            + " INTERVAL '10' SECOND, INTERVAL '1' MINUTE)) GROUP BY user_id, window_start, window_end"
                            + " HAVING COUNT(*) > %d")
                    .formatted(RAPID_CLICKS),
            List.of("user_id", "window_end"),
            false);

    private Demo() {}

    /** Creates what does not exist yet; on a restart everything exists and the pipelines resume by themselves. */
    public static void install(TarnServer server) {
        ignoreExisting(() -> server.topics().create(CLICKS));
        ignoreExisting(() -> server.pipelines().create(CLICKS_TO_LAKE));
        ignoreExisting(() -> server.pipelines().create(PAGEVIEWS_PER_MINUTE));
        ignoreExisting(() -> server.views().create(PV_UV));
        ignoreExisting(() -> server.views().create(RAPID_USERS));
    }

    private static void ignoreExisting(Runnable create) {
        try {
            create.run();
        } catch (TarnException e) {
            if (e.code() != ErrorCode.TOPIC_ALREADY_EXISTS
                    && e.code() != ErrorCode.PIPELINE_ALREADY_EXISTS
                    && e.code() != ErrorCode.VIEW_ALREADY_EXISTS) {
                throw e;
            }
        }
    }
}
