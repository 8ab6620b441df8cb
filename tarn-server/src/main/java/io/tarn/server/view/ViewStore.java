package io.tarn.server.view;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.lake.LiveTables;
import io.tarn.server.topic.FollowedRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A view's rows served from disk: its topic (a compacted changelog, upserts and tombstones by key) applied to an
 * SQLite table keyed by the view's key, by one thread that reads the topic.
 *
 * <p>Why SQLite: a view may be larger than the heap, so the rows are on disk, in a B-tree ordered by the key — which
 * is what point lookups, several keys, key prefixes and key ranges need — and SQLite is already Tarn's metadata store.
 * Each batch of records is applied in one transaction together with the offsets it ends at, so after any stop the store
 * resumes from exactly where its rows are, and reads (WAL mode: they never wait for the writer) see a batch whole or
 * not at all. The store is only a copy of the topic: a file that cannot be opened is deleted and rebuilt from it.
 */
final class ViewStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ViewStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Which rows to read, by key. Values are as a user wrote them, one per key column (a prefix of the key for
     * {@code prefix}, {@code from} and {@code to}).
     *
     * @param keys exact keys (empty: no such condition)
     * @param from rows whose key is at or after these values
     * @param to rows whose key is before these values
     */
    record Read(
            List<List<String>> keys,
            List<String> prefix,
            List<String> from,
            List<String> to,
            int limit,
            boolean descending) {
        Read {
            keys = List.copyOf(keys);
            prefix = List.copyOf(prefix);
            from = List.copyOf(from);
            to = List.copyOf(to);
        }
    }

    private final String view;
    private final TopicSpec topic;
    private final List<ColumnSpec> keyColumns;
    private final Path file;
    private final Connection writer;
    private final LinkedBlockingQueue<Connection> idleReaders = new LinkedBlockingQueue<>();
    private final List<Connection> readers = Collections.synchronizedList(new ArrayList<>());
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final AtomicLong skipped = new AtomicLong();
    private volatile boolean running = true;
    private volatile Freshness freshness = Freshness.UNKNOWN;
    private volatile String lastSkipped;

    private ViewStore(String view, TopicSpec topic, Path file, Connection writer, String bootstrapServers) {
        this.view = view;
        this.topic = topic;
        this.keyColumns = topic.primaryKey().stream()
                .map(k -> topic.columns().stream()
                        .filter(c -> c.name().equals(k))
                        .findFirst()
                        .orElseThrow())
                .toList();
        this.file = file;
        this.writer = writer;
        this.consumer = FollowedRecords.consumer(bootstrapServers, "tarn-view-" + view, 10_000);
        this.thread = new Thread(this::run, "tarn-view-" + view);
        this.thread.setDaemon(true);
    }

    /**
     * Opens (or creates, or rebuilds) a view's store and starts applying its topic.
     *
     * @throws TarnException {@link ErrorCode#INTERNAL_ERROR} if the file can be neither opened nor created
     */
    static ViewStore open(String view, TopicSpec topic, Path file, String bootstrapServers) {
        Connection writer;
        try {
            writer = connect(file, topic);
        } catch (SQLException e) {
            LOG.warn("View {}: its store could not be opened ({}); it is rebuilt from its topic", view, e.getMessage());
            try {
                deleteFiles(file);
                writer = connect(file, topic);
            } catch (SQLException | IOException again) {
                throw new TarnException(
                        ErrorCode.INTERNAL_ERROR, "the store of view '%s' could not be created".formatted(view), again);
            }
        }
        ViewStore store = new ViewStore(view, topic, file, writer, bootstrapServers);
        store.thread.start();
        return store;
    }

    private static Connection connect(Path file, TopicSpec topic) throws SQLException {
        Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        try (Statement statement = connection.createStatement()) {
            statement.execute("PRAGMA journal_mode = WAL");
            // a crash of Tarn loses nothing committed; a power loss may lose the last batches, which the topic repeats
            statement.execute("PRAGMA synchronous = NORMAL");
            List<String> keys = keyNames(topic.primaryKey().size());
            statement.execute(
                    "CREATE TABLE IF NOT EXISTS view_rows (%s, row TEXT NOT NULL, PRIMARY KEY (%s)) WITHOUT ROWID"
                            .formatted(String.join(", ", keys), String.join(", ", keys)));
            statement.execute("CREATE TABLE IF NOT EXISTS view_positions (topic_partition INTEGER PRIMARY KEY,"
                    + " next_offset INTEGER NOT NULL)");
            statement.execute("CREATE TABLE IF NOT EXISTS view_state (id INTEGER PRIMARY KEY, applied_at INTEGER NOT"
                    + " NULL, changed_at INTEGER NOT NULL)");
            statement.executeQuery("SELECT count(*) FROM view_rows").close(); // a damaged file fails here
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
        connection.setAutoCommit(false);
        return connection;
    }

    private void run() {
        try {
            Map<Integer, Long> positions = positions();
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic.name(), Duration.ofMinutes(1))) {
                partitions.add(new TopicPartition(topic.name(), info.partition()));
            }
            consumer.assign(partitions);
            for (TopicPartition partition : partitions) {
                Long next = positions.get(partition.partition());
                if (next == null) {
                    consumer.seekToBeginning(List.of(partition));
                } else {
                    consumer.seek(partition, next);
                }
            }
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (!records.isEmpty()) {
                    apply(records);
                }
                long lag = 0;
                boolean known = true;
                for (TopicPartition partition : partitions) {
                    var partitionLag = consumer.currentLag(partition);
                    known &= partitionLag.isPresent();
                    lag += partitionLag.orElse(0);
                }
                Freshness now = freshness;
                freshness =
                        new Freshness(now.appliedAt(), now.changedAt(), known ? Optional.of(lag) : Optional.empty());
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException | SQLException e) {
            if (running) {
                LOG.error("View {}: its store stopped applying its topic: {}", view, TarnException.rootMessage(e));
                lastSkipped = "the store stopped applying its topic: " + TarnException.rootMessage(e);
            }
        }
    }

    private Map<Integer, Long> positions() throws SQLException {
        Map<Integer, Long> positions = new HashMap<>();
        try (Statement statement = writer.createStatement();
                ResultSet rs = statement.executeQuery("SELECT topic_partition, next_offset FROM view_positions")) {
            while (rs.next()) {
                positions.put(rs.getInt(1), rs.getLong(2));
            }
        }
        try (Statement statement = writer.createStatement();
                ResultSet rs = statement.executeQuery("SELECT applied_at, changed_at FROM view_state WHERE id = 0")) {
            if (rs.next()) {
                freshness = new Freshness(
                        Optional.of(Instant.ofEpochMilli(rs.getLong(1))),
                        Optional.of(Instant.ofEpochMilli(rs.getLong(2))),
                        Optional.empty());
            }
        }
        writer.commit();
        return positions;
    }

    /** Applies a batch of records and the offsets after it in one transaction. */
    private void apply(ConsumerRecords<byte[], byte[]> records) throws SQLException {
        String keys = String.join(", ", keyNames());
        String placeholders = String.join(", ", Collections.nCopies(keyColumns.size(), "?"));
        Map<Integer, Long> next = new HashMap<>();
        long changedAt = 0;
        try (PreparedStatement upsert = writer.prepareStatement(
                        "INSERT OR REPLACE INTO view_rows (%s, row) VALUES (%s, ?)".formatted(keys, placeholders));
                PreparedStatement delete = writer.prepareStatement(
                        "DELETE FROM view_rows WHERE (%s) = (%s)".formatted(keys, placeholders))) {
            for (ConsumerRecord<byte[], byte[]> record : records) {
                next.put(record.partition(), record.offset() + 1);
                changedAt = Math.max(changedAt, record.timestamp());
                try {
                    JsonNode row = record.value() == null ? null : JSON.readTree(record.value());
                    JsonNode key = row != null ? row : JSON.readTree(record.key());
                    List<Object> values = new ArrayList<>(keyColumns.size());
                    for (ColumnSpec column : keyColumns) {
                        JsonNode value = key.get(column.name());
                        if (value == null || value.isNull()) {
                            throw new IllegalArgumentException("it has no value for key column " + column.name());
                        }
                        values.add(ViewKeys.stored(column, value.isTextual() ? value.asText() : value.toString()));
                    }
                    PreparedStatement statement = row == null ? delete : upsert;
                    for (int i = 0; i < values.size(); i++) {
                        statement.setObject(i + 1, values.get(i));
                    }
                    if (row != null) {
                        statement.setString(values.size() + 1, row.toString());
                    }
                    statement.executeUpdate();
                } catch (IOException | RuntimeException e) {
                    // not a row of this view (written to its topic by something else): counted and named, not applied
                    skipped.incrementAndGet();
                    lastSkipped = "record at offset %d of partition %d is not a row of the view: %s"
                            .formatted(record.offset(), record.partition(), e.getMessage());
                }
            }
        }
        try (PreparedStatement position = writer.prepareStatement(
                        "INSERT OR REPLACE INTO view_positions (topic_partition, next_offset) VALUES (?, ?)");
                PreparedStatement state = writer.prepareStatement(
                        "INSERT OR REPLACE INTO view_state (id, applied_at, changed_at) VALUES (0, ?, ?)")) {
            for (Map.Entry<Integer, Long> entry : next.entrySet()) {
                position.setInt(1, entry.getKey());
                position.setLong(2, entry.getValue());
                position.executeUpdate();
            }
            long now = System.currentTimeMillis();
            state.setLong(1, now);
            state.setLong(2, changedAt);
            state.executeUpdate();
            writer.commit();
            freshness = new Freshness(
                    Optional.of(Instant.ofEpochMilli(now)),
                    Optional.of(Instant.ofEpochMilli(changedAt)),
                    freshness.lag());
        } catch (SQLException e) {
            writer.rollback();
            throw e;
        }
    }

    private List<String> keyNames() {
        return keyNames(keyColumns.size());
    }

    /** The store's own names of the key columns, {@code k0, k1, …} (never a user's text in its SQL). */
    private static List<String> keyNames(int count) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            names.add("k" + i);
        }
        return names;
    }

    /**
     * Rows as JSON objects, ordered by key.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming a value that is not one of its key column's type,
     *     or more values than the key has columns
     */
    List<JsonNode> read(Read read) {
        List<String> conditions = new ArrayList<>();
        List<Object> parameters = new ArrayList<>();
        List<String> names = keyNames();
        if (!read.keys().isEmpty()) {
            List<String> tuples = new ArrayList<>();
            for (List<String> key : read.keys()) {
                if (key.size() != keyColumns.size()) {
                    throw new TarnException(
                            ErrorCode.INVALID_REQUEST,
                            "view '%s' has a key of %d columns %s; a key of %d values was given"
                                    .formatted(view, keyColumns.size(), topic.primaryKey(), key.size()));
                }
                tuples.add("(" + String.join(", ", Collections.nCopies(key.size(), "?")) + ")");
                parameters.addAll(bound(key));
            }
            conditions.add("(%s) IN (VALUES %s)".formatted(String.join(", ", names), String.join(", ", tuples)));
        }
        if (!read.prefix().isEmpty()) {
            conditions.add(tuple(names, read.prefix(), "=", parameters));
        }
        if (!read.from().isEmpty()) {
            conditions.add(tuple(names, read.from(), ">=", parameters));
        }
        if (!read.to().isEmpty()) {
            conditions.add(tuple(names, read.to(), "<", parameters));
        }
        String order = read.descending() ? " DESC" : "";
        String sql = "SELECT row FROM view_rows%s ORDER BY %s LIMIT %d"
                .formatted(
                        conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions),
                        String.join(", ", names.stream().map(n -> n + order).toList()),
                        read.limit());
        Connection connection = reader();
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.size(); i++) {
                statement.setObject(i + 1, parameters.get(i));
            }
            List<JsonNode> rows = new ArrayList<>();
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    rows.add(JSON.readTree(rs.getString(1)));
                }
            }
            return rows;
        } catch (SQLException | IOException e) {
            throw new TarnException(ErrorCode.INTERNAL_ERROR, "view '%s' could not be read".formatted(view), e);
        } finally {
            idleReaders.offer(connection);
        }
    }

    /** A condition on the first key columns as a tuple, e.g. {@code (k0, k1) >= (?, ?)}. */
    private String tuple(List<String> names, List<String> values, String operator, List<Object> parameters) {
        if (values.size() > keyColumns.size()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "view '%s' has a key of %d columns %s; %d values were given"
                            .formatted(view, keyColumns.size(), topic.primaryKey(), values.size()));
        }
        parameters.addAll(bound(values));
        return "(%s) %s (%s)"
                .formatted(
                        String.join(", ", names.subList(0, values.size())),
                        operator,
                        String.join(", ", Collections.nCopies(values.size(), "?")));
    }

    private List<Object> bound(List<String> values) {
        List<Object> bound = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            bound.add(ViewKeys.requested(view, keyColumns.get(i), values.get(i)));
        }
        return bound;
    }

    private Connection reader() {
        Connection idle = idleReaders.poll();
        if (idle != null) {
            return idle;
        }
        try {
            Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement statement = connection.createStatement()) {
                statement.execute("PRAGMA query_only = true");
            }
            readers.add(connection);
            return connection;
        } catch (SQLException e) {
            throw new TarnException(ErrorCode.INTERNAL_ERROR, "view '%s' could not be read".formatted(view), e);
        }
    }

    /**
     * Every row, in key order, and the offsets of the topic they are at, read in one transaction (one state of the
     * store, whatever it applies meanwhile).
     *
     * @return the next offset of each partition the rows include; a partition not in it was not read at all
     * @throws IOException what the sink throws
     */
    Map<Integer, Long> snapshot(LiveTables.RowSink sink) throws IOException {
        Connection connection = reader();
        try {
            connection.setAutoCommit(false);
            Map<Integer, Long> positions = new HashMap<>();
            try (Statement statement = connection.createStatement()) {
                try (ResultSet rs = statement.executeQuery("SELECT topic_partition, next_offset FROM view_positions")) {
                    while (rs.next()) {
                        positions.put(rs.getInt(1), rs.getLong(2));
                    }
                }
                try (ResultSet rs =
                        statement.executeQuery("SELECT row FROM view_rows ORDER BY " + String.join(", ", keyNames()))) {
                    while (rs.next()) {
                        sink.row(rs.getString(1));
                    }
                }
            }
            connection.commit();
            return positions;
        } catch (SQLException e) {
            throw new TarnException(ErrorCode.INTERNAL_ERROR, "view '%s' could not be read".formatted(view), e);
        } finally {
            try {
                connection.rollback(); // ends the read transaction if the sink failed
                connection.setAutoCommit(true);
            } catch (SQLException e) {
                LOG.debug("View {}: a read transaction did not end: {}", view, e.getMessage());
            }
            idleReaders.offer(connection);
        }
    }

    /** The view's columns and key, as its topic declares them. */
    TopicSpec topic() {
        return topic;
    }

    /** How many rows the view has now. */
    long rowCount() {
        Connection connection = reader();
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT count(*) FROM view_rows")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new TarnException(ErrorCode.INTERNAL_ERROR, "view '%s' could not be read".formatted(view), e);
        } finally {
            idleReaders.offer(connection);
        }
    }

    /** How many columns the view's key has. */
    int keyColumns() {
        return keyColumns.size();
    }

    Freshness freshness() {
        return freshness;
    }

    /** Records of the topic that were not rows of the view, and why the last one was not (or why the store stopped). */
    long skipped() {
        return skipped.get();
    }

    Optional<String> lastProblem() {
        return Optional.ofNullable(lastSkipped);
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        consumer.close(Duration.ofSeconds(5));
        synchronized (readers) {
            for (Connection connection : readers) {
                closeQuietly(connection);
            }
        }
        closeQuietly(writer);
    }

    /** Closes the store and deletes its files. */
    void closeAndDelete() {
        close();
        try {
            deleteFiles(file);
        } catch (IOException e) {
            LOG.warn("View {}: its store's files could not be deleted: {}", view, e.getMessage());
        }
    }

    private static void deleteFiles(Path file) throws IOException {
        for (String suffix : List.of("", "-wal", "-shm")) {
            Files.deleteIfExists(file.resolveSibling(file.getFileName() + suffix));
        }
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.debug("A connection of a view store did not close: {}", e.getMessage());
        }
    }
}
