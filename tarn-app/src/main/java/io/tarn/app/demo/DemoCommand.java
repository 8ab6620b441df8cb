package io.tarn.app.demo;

import io.tarn.app.launcher.OrderlyStop;
import io.tarn.app.launcher.ServerOptionsMixin;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.io.DataDir;
import io.tarn.server.TarnServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tarn demo}: Tarn on its embedded defaults plus a clickstream generator and two pipelines. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Start Tarn and run the clickstream demo (Ctrl-C stops it).")
public final class DemoCommand implements Callable<Integer> {
    @Mixin
    ServerOptionsMixin options = new ServerOptionsMixin();

    @Option(
            names = "--rate",
            paramLabel = "N",
            description = "Click events per second (default: demo.events-per-second, 50).")
    Integer rate;

    @Override
    public Integer call() throws Exception {
        TarnConfig config = options.load();
        ServerOptionsMixin.useTemporaryDirectoryIn(config.dataDir());
        TarnServer server = TarnServer.start(config);
        AtomicBoolean running = new AtomicBoolean(true);
        Thread generator = new Thread(
                () -> generate(
                        server.bootstrapServers(),
                        rate == null ? config.get(ConfigKeys.DEMO_EVENTS_PER_SECOND) : rate,
                        running),
                "tarn-demo-generator");
        OrderlyStop.install(() -> {
            running.set(false);
            try {
                generator.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            server.close();
        });
        Demo.install(server);
        generator.setDaemon(true);
        generator.start();
        ServerOptionsMixin.printReady(server);
        String cli = "./tarn --url " + server.httpAddress()
                + (config.dataDir().equals(Path.of("tarn-data").toAbsolutePath().normalize())
                        ? ""
                        : " --data-dir " + config.dataDir());
        System.out.printf(
                """

                Tarn demo is running. HTTP API: %s   Kafka: %s
                Web console (this link logs in with the admin token): %s/#token=%s
                Clicks flow into topic 'clicks'; pipeline 'clicks-to-lake' lands them in lake.web.clicks and
                'pageviews-per-minute' keeps per-minute PV/UV per page in lake.web.pageviews_per_minute.
                Lake tables become visible at each checkpoint (%s); windows close a minute (plus 5 s) after they end.
                The API needs a token: the admin token is in %s (the CLI reads it from there).
                Try, in another terminal:
                  %s sql "SELECT page, count(*) AS views FROM lake.web.clicks GROUP BY page ORDER BY views DESC"
                  %s sql "SELECT * FROM lake.web.pageviews_per_minute ORDER BY window_start DESC, page_views DESC LIMIT 10"
                  %s pipelines list
                Live views, up to date within milliseconds: 'pv_uv' (page views and unique users per page) and
                'rapid_users' (users with more than %d page views in a sliding minute):
                  %s views get pv_uv --key /pricing
                  %s views get rapid_users --desc --limit 5
                  curl -sN %s/v1/views/rapid_users/changes -H "Authorization: Bearer $(cat %s)"
                Ctrl-C stops the demo; run it again on the same data dir and it continues where it stopped.
                %n""",
                server.httpAddress(),
                server.bootstrapServers(),
                server.httpAddress(),
                adminToken(config),
                ConfigKeys.text(config.get(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL)),
                new DataDir(config.dataDir()).adminToken(),
                cli,
                cli,
                cli,
                Demo.RAPID_CLICKS,
                cli,
                cli,
                server.httpAddress(),
                new DataDir(config.dataDir()).adminToken());
        System.out.flush();
        OrderlyStop.awaitExit();
        return 0;
    }

    private static String adminToken(TarnConfig config) {
        try {
            return Files.readString(new DataDir(config.dataDir()).adminToken()).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Produces clicks happening now, keyed by user, at a steady rate until {@code running} turns false. */
    static void generate(String bootstrapServers, int perSecond, AtomicBoolean running) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        try (var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            long n = System.currentTimeMillis() * 1000;
            long intervalNanos = 1_000_000_000L / perSecond;
            long next = System.nanoTime();
            while (running.get()) {
                ClickGenerator.Click click = ClickGenerator.click(n++, LocalDateTime.now(ZoneOffset.UTC));
                producer.send(new ProducerRecord<>(
                        Demo.CLICKS.name(),
                        click.userId().getBytes(StandardCharsets.UTF_8),
                        click.json().getBytes(StandardCharsets.UTF_8)));
                next += intervalNanos;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
