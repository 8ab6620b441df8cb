package io.tarn.app.demo;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.core.topic.WatermarkSpec;
import io.tarn.server.TarnServer;
import java.util.List;
import java.util.Optional;

/** The clickstream demo's objects: topic {@code clicks} and the two pipelines that fill the lake from it. */
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

    private Demo() {}

    /** Creates what does not exist yet; on a restart everything exists and the pipelines resume by themselves. */
    public static void install(TarnServer server) {
        ignoreExisting(() -> server.topics().create(CLICKS));
        ignoreExisting(() -> server.pipelines().create(CLICKS_TO_LAKE));
        ignoreExisting(() -> server.pipelines().create(PAGEVIEWS_PER_MINUTE));
    }

    private static void ignoreExisting(Runnable create) {
        try {
            create.run();
        } catch (TarnException e) {
            if (e.code() != ErrorCode.TOPIC_ALREADY_EXISTS && e.code() != ErrorCode.PIPELINE_ALREADY_EXISTS) {
                throw e;
            }
        }
    }
}
