package io.tarn.bench;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Workload 2, HTTP ingest: events acknowledged per second through {@code POST /v1/topics/{t}/records} (batches of
 * {@code httpBatch} events as a JSON array, {@code httpClients} concurrent clients) versus the Kafka Java producer
 * writing the same events with the same guarantees Tarn's ingest uses (idempotent, {@code acks=all}), and HTTP ingest
 * into a topic that fsyncs every append (the cost of {@code log.durability=fsync}).
 */
final class HttpIngest {
    static final String NAME = "http-ingest";
    private static final int PARTITIONS = 2;

    private final BenchContext context;
    private final long events;

    HttpIngest(BenchContext context) {
        this.context = context;
        this.events = context.settings.httpEvents();
    }

    List<Run> run() throws Exception {
        List<byte[]> batches = batches();
        return context.repeat(i -> {
            List<Run> round = new ArrayList<>();
            if (context.settings.runs("tarn-http")) {
                round.add(http(i, batches, false));
            }
            if (context.settings.runs("tarn-http-fsync")) {
                round.add(http(i, batches, true));
            }
            if (context.settings.runs("kafka-producer")) {
                round.add(producer(i));
            }
            return round;
        });
    }

    private List<byte[]> batches() {
        List<byte[]> batches = new ArrayList<>();
        int size = context.settings.httpBatch();
        for (long first = 0; first < events; first += size) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write('[');
            for (long n = first; n < Math.min(events, first + size); n++) {
                if (n > first) {
                    body.write(',');
                }
                body.writeBytes(Events.bytes(n));
            }
            body.write(']');
            batches.add(body.toByteArray());
        }
        return batches;
    }

    /**
     * @param fsync flush every append before acknowledging it, as {@code log.durability=fsync} does for every topic
     *     (here through the topic's {@code flush.messages=1}, so both modes run on one broker)
     */
    private Run http(int round, List<byte[]> batches, boolean fsync) throws Exception {
        String topic = (fsync ? "bench_http_fsync_" : "bench_http_") + round;
        context.createTopic(topic, PARTITIONS);
        if (fsync) {
            context.setTopicConfig(topic, "flush.messages", "1");
        }
        URI uri = URI.create(context.server.httpAddress() + "/v1/topics/" + topic + "/records");
        AtomicInteger next = new AtomicInteger();
        double cpu = Machine.processCpuSeconds();
        long start = System.nanoTime();
        ExecutorService clients = Executors.newFixedThreadPool(context.settings.httpClients());
        try {
            List<Future<Long>> results = new ArrayList<>();
            for (int c = 0; c < context.settings.httpClients(); c++) {
                results.add(clients.submit(() -> {
                    long accepted = 0;
                    for (int b; (b = next.getAndIncrement()) < batches.size(); ) {
                        HttpResponse<String> response = context.http.send(
                                HttpRequest.newBuilder(uri)
                                        .header("Content-Type", "application/json")
                                        .header("Authorization", context.authorization(context.server.httpAddress()))
                                        .POST(HttpRequest.BodyPublishers.ofByteArray(batches.get(b)))
                                        .timeout(Duration.ofMinutes(2))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (response.statusCode() != 200) {
                            throw new IllegalStateException(
                                    "ingest answered %d: %s".formatted(response.statusCode(), response.body()));
                        }
                        accepted += BenchContext.JSON
                                .readTree(response.body())
                                .path("accepted")
                                .asLong();
                    }
                    return accepted;
                }));
            }
            long accepted = 0;
            for (Future<Long> result : results) {
                accepted += result.get();
            }
            if (accepted != events) {
                throw new IllegalStateException("HTTP ingest accepted %d, expected %d".formatted(accepted, events));
            }
        } finally {
            clients.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Run run = new Run(
                NAME,
                fsync ? "tarn-http-fsync" : "tarn-http",
                round,
                events,
                seconds,
                Machine.processCpuSeconds() - cpu,
                Map.of("clients", context.settings.httpClients(), "batch", context.settings.httpBatch()));
        context.request("DELETE", "/v1/topics/" + topic, null, 204);
        return run;
    }

    private Run producer(int round) {
        String topic = "bench_producer_" + round;
        context.createTopic(topic, PARTITIONS);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, context.server.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        List<byte[]> values = new ArrayList<>();
        for (long n = 0; n < events; n++) {
            values.add(Events.bytes(n));
        }
        AtomicInteger failed = new AtomicInteger();
        double cpu = Machine.processCpuSeconds();
        long start = System.nanoTime();
        try (var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (byte[] value : values) {
                producer.send(new ProducerRecord<>(topic, value), (metadata, error) -> {
                    if (error != null) {
                        failed.incrementAndGet();
                    }
                });
            }
            producer.flush();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " producer sends failed");
        }
        Run run = new Run(NAME, "kafka-producer", round, events, seconds, Machine.processCpuSeconds() - cpu, Map.of());
        context.request("DELETE", "/v1/topics/" + topic, null, 204);
        return run;
    }
}
