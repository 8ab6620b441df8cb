package io.tarn.server.view;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.node.TextNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.TopicSpec;
import io.tarn.server.topic.FollowedRecords;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * One client following a view as Server-Sent Events: first the current rows ({@code upsert} events, then
 * {@code ready} with the position they are at), then every change of the view's topic from that position, in the
 * topic's order ({@code upsert} with the row, {@code delete} with the key). Each change carries the position after it
 * as its event id ({@code partition:offset,…}); a client that reconnects with it ({@code Last-Event-ID}) gets the
 * changes after it, without the rows again.
 *
 * <p>Each client has a Kafka consumer of its own, so a slow client falls behind on its own and never slows the view;
 * once it is more than {@code views.subscriber-max-lag} changes behind it gets a {@code cutoff} event and the stream
 * ends. A {@code : keepalive} comment goes out after 15 s without changes ({@link FollowedRecords}).
 */
public final class ViewChanges implements AutoCloseable {
    private final String view;
    private final TopicSpec topic;
    private final ViewStore store;
    private final Optional<Map<Integer, Long>> resumeFrom;
    private final long maxLag;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Consumer<ViewChanges> onClose;
    private volatile String endedBecause;

    ViewChanges(
            String view,
            TopicSpec topic,
            ViewStore store,
            Optional<Map<Integer, Long>> resumeFrom,
            long maxLag,
            String bootstrapServers,
            Consumer<ViewChanges> onClose) {
        this.view = view;
        this.topic = topic;
        this.store = store;
        this.resumeFrom = resumeFrom;
        this.maxLag = maxLag;
        this.onClose = onClose;
        this.consumer = FollowedRecords.consumer(bootstrapServers, "tarn-view-changes-" + view, 1000);
    }

    /**
     * A position as a client gives it back: {@code partition:offset} pairs, comma-separated, as event ids are.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} unless it is one of this view's positions
     */
    static Map<Integer, Long> position(String view, int partitions, String text) {
        Map<Integer, Long> position = new TreeMap<>();
        try {
            for (String pair : text.strip().split(",", -1)) {
                String[] parts = pair.split(":", -1);
                int partition = Integer.parseInt(parts[0]);
                long offset = Long.parseLong(parts[1]);
                if (parts.length != 2 || partition < 0 || partition >= partitions || offset < 0) {
                    throw new IllegalArgumentException(pair);
                }
                position.put(partition, offset);
            }
        } catch (RuntimeException e) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    ("Last-Event-ID '%s' is not a position of view '%s': it is partition:offset pairs, as the ids of"
                                    + " the view's events")
                            .formatted(text, view));
        }
        return position;
    }

    /** Writes the events until the client goes away, falls too far behind, or the view or Tarn stops. */
    public void writeTo(OutputStream out) throws IOException {
        Map<Integer, Long> position = new TreeMap<>();
        if (resumeFrom.isPresent()) {
            position.putAll(resumeFrom.get());
        } else {
            long[] rows = {0};
            position.putAll(store.snapshot(row -> {
                write(out, "upsert", null, row);
                rows[0]++;
            }));
            write(out, "ready", id(position), "{\"rows\":" + rows[0] + "}");
        }
        out.flush();
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p = 0; p < topic.partitions(); p++) {
            partitions.add(new TopicPartition(topic.name(), p));
        }
        consumer.assign(partitions);
        for (TopicPartition partition : partitions) {
            Long next = position.get(partition.partition());
            if (next == null) {
                consumer.seekToBeginning(List.of(partition));
            } else {
                consumer.seek(partition, next);
            }
        }
        FollowedRecords.follow(consumer, out, () -> endedBecause, records -> {
            for (ConsumerRecord<byte[], byte[]> record : records) {
                position.put(record.partition(), record.offset() + 1);
                boolean delete = record.value() == null;
                write(
                        out,
                        delete ? "delete" : "upsert",
                        id(position),
                        new String(delete ? record.key() : record.value(), UTF_8));
            }
            long lag = 0;
            for (TopicPartition partition : partitions) {
                lag += consumer.currentLag(partition).orElse(0);
            }
            if (lag > maxLag) {
                endedBecause = ("the client is %d changes behind view '%s' (views.subscriber-max-lag %d);"
                                + " reconnect with the last event id to go on from there")
                        .formatted(lag, view, maxLag);
            }
        });
        write(out, "cutoff", null, "{\"reason\":" + quoted(endedBecause) + "}");
        out.flush();
    }

    /** Ends the stream with a cutoff event giving the reason (the view was deleted, Tarn stops). */
    void end(String reason) {
        endedBecause = reason;
        consumer.wakeup();
    }

    private static String id(Map<Integer, Long> position) {
        List<String> pairs = new ArrayList<>();
        position.forEach((partition, offset) -> pairs.add(partition + ":" + offset));
        return String.join(",", pairs);
    }

    private static void write(OutputStream out, String event, String id, String data) throws IOException {
        StringBuilder text = new StringBuilder("event: ").append(event).append('\n');
        if (id != null) {
            text.append("id: ").append(id).append('\n');
        }
        // Flink's JSON has no raw line breaks (they are escaped in strings); a record written by something else
        // could, and would end the event early: it goes as one JSON string instead
        boolean oneLine = data.indexOf('\n') < 0 && data.indexOf('\r') < 0;
        text.append("data: ").append(oneLine ? data : quoted(data)).append("\n\n");
        out.write(text.toString().getBytes(UTF_8));
    }

    private static String quoted(String text) {
        return TextNode.valueOf(text == null ? "" : text).toString();
    }

    @Override
    public void close() {
        try {
            consumer.close(Duration.ofSeconds(5));
        } finally {
            onClose.accept(this);
        }
    }
}
