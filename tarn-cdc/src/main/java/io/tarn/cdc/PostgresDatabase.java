package io.tarn.cdc;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.postgresql.Driver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A captured PostgreSQL database (logical replication, {@code pgoutput}), asked over short JDBC connections: whether
 * logical decoding is on, the columns and primary key of each table to capture, how far the capture's replication slot
 * is behind the server's WAL, and removing the slot and publication of a dropped source.
 */
public final class PostgresDatabase extends JdbcSourceDatabase {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresDatabase.class);

    /** The table whose rows Debezium's heartbeats update, one per capture (see {@link #prepare}). */
    static final String HEARTBEAT_TABLE = "public.tarn_heartbeat";

    public PostgresDatabase(ConnectionUrl url, String user, String password) {
        super(url, user, password, new Driver());
    }

    /**
     * Where a replication slot stands against the server's WAL.
     *
     * @param currentLsn the server's current WAL position
     * @param confirmedLsn up to where the slot's consumer confirmed it has the changes
     * @param retainedBytes WAL the server keeps for the slot (current position minus the slot's restart position)
     */
    public record SlotPosition(long currentLsn, long confirmedLsn, long retainedBytes, boolean active) {}

    @Override
    public String defaultSchema() {
        return "public";
    }

    @Override
    String schemaWord() {
        return "schema";
    }

    /** PostgreSQL needs {@code wal_level=logical}. */
    @Override
    void checkSetup(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SHOW wal_level")) {
            rs.next();
            if (!rs.getString(1).equals("logical")) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        ("database %s has wal_level=%s; change data capture needs wal_level=logical (set it in"
                                        + " postgresql.conf and restart PostgreSQL)")
                                .formatted(url.database(), rs.getString(1)));
            }
        }
    }

    @Override
    TableSchema describe(Connection connection, String table, String schema, String name) throws SQLException {
        List<String> primaryKey = new ArrayList<>();
        List<ColumnSpec> columns = new ArrayList<>();
        Set<String> defaulted = new HashSet<>();
        try (PreparedStatement statement = connection.prepareStatement(
                """
                SELECT a.attname, t.typname, t.typtype, a.atttypmod,
                       coalesce((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                                 WHERE k.attnum = a.attnum), 0) AS key_position,
                       format_type(a.atttypid, a.atttypmod), a.atthasdef
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                JOIN pg_type t ON t.oid = a.atttypid
                LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
                WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')
                ORDER BY a.attnum""")) {
            statement.setString(1, schema);
            statement.setString(2, name);
            List<String[]> keyed = new ArrayList<>();
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    String column = rs.getString(1);
                    boolean key = rs.getInt(5) > 0;
                    String type =
                            flinkType(table, column, rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(6));
                    columns.add(ColumnSpec.of(column, key ? type + " NOT NULL" : type));
                    if (key) {
                        keyed.add(new String[] {String.format("%05d", rs.getInt(5)), column});
                    }
                    if (rs.getBoolean(7)) {
                        defaulted.add(column);
                    }
                }
            }
            keyed.sort(Comparator.comparing(k -> k[0]));
            keyed.forEach(k -> primaryKey.add(k[1]));
        }
        return new TableSchema(table, columns, primaryKey, defaulted);
    }

    /**
     * The Flink SQL type a PostgreSQL column is carried as, given how Tarn configures Debezium (precise decimals,
     * microsecond times, intervals as ISO-8601 text) and how {@link ChangeEnvelope} writes the values.
     */
    static String flinkType(String table, String column, String typeName, String typeType, int typeMod, String shown) {
        if ("e".equals(typeType)) {
            return "STRING"; // enum labels
        }
        switch (typeName) {
            case "bool":
                return "BOOLEAN";
            case "int2":
            case "int4":
                return "INT";
            case "int8":
                return "BIGINT";
            case "float4":
                return "FLOAT";
            case "float8":
                return "DOUBLE";
            case "numeric": {
                if (typeMod < 0) {
                    return "STRING"; // unconstrained: any scale, exactly as text
                }
                int precision = ((typeMod - 4) >> 16) & 0xffff;
                int scale = (typeMod - 4) & 0xffff;
                return precision <= 38 ? "DECIMAL(%d, %d)".formatted(precision, scale) : "STRING";
            }
            case "text":
            case "varchar":
            case "bpchar":
            case "name":
            case "citext":
            case "uuid":
            case "json":
            case "jsonb":
            case "xml":
            case "inet":
            case "cidr":
            case "macaddr":
            case "macaddr8":
            case "interval":
            case "time": // TIME in Flink keeps milliseconds only: text keeps the microseconds
            case "timetz":
                return "STRING";
            case "date":
                return "DATE";
            case "timestamp":
                return "TIMESTAMP(6)";
            case "timestamptz":
                return "TIMESTAMP_LTZ(6)";
            case "bytea":
                return "BYTES";
            default:
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        ("column '%s' of table '%s' has type %s, which Tarn cannot capture yet; leave the table out or"
                                        + " change the column's type")
                                .formatted(column, table, shown));
        }
    }

    /**
     * Where a replication slot stands, or empty if there is no such slot.
     *
     * @throws TarnException {@link ErrorCode#SOURCE_UNAVAILABLE} when the database cannot be reached
     */
    public Optional<SlotPosition> slot(String slotName) {
        try (Connection connection = connect();
                PreparedStatement statement = connection.prepareStatement(
                        """
                        SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'),
                               pg_wal_lsn_diff(confirmed_flush_lsn, '0/0'),
                               pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn),
                               active
                        FROM pg_replication_slots WHERE slot_name = ?""")) {
            statement.setString(1, slotName);
            try (ResultSet rs = statement.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new SlotPosition(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getBoolean(4)));
            }
        } catch (SQLException e) {
            throw unavailable("could not be asked for its replication slot", e);
        }
    }

    /** The replication slot and publication of a capture: {@code tarn_<name>}. */
    public static String slotName(String captureName) {
        return "tarn_" + captureName.replace('-', '_');
    }

    @Override
    public Properties connector(String captureName, Path stateDirectory, List<String> tables) {
        Properties p = new Properties();
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("database.hostname", url.host());
        p.setProperty("database.port", String.valueOf(url.port()));
        p.setProperty("database.user", user());
        p.setProperty("database.password", password());
        p.setProperty("database.dbname", url.database());
        // only ConnectionUrl's allow-listed driver parameters, none of which loads code
        url.parameters()
                .forEach((key, value) ->
                        p.setProperty(key.equals("sslmode") ? "database.sslmode" : "driver." + key, value));
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", slotName(captureName));
        p.setProperty("publication.name", slotName(captureName));
        p.setProperty("publication.autocreate.mode", "filtered");
        p.setProperty("table.include.list", String.join(",", tables));
        p.setProperty("interval.handling.mode", "string");
        return p;
    }

    /**
     * {@inheritDoc}
     *
     * <p>A capture whose tables stay quiet while other tables or databases of the server write WAL sees no change, so
     * its slot would keep all that WAL: the server does not tell a logical decoding client about transactions it does
     * not decode. Tarn therefore keeps a heartbeat table, {@code public.tarn_heartbeat}, in each capture's publication,
     * and Debezium's heartbeat updates the capture's row in it: a change the capture reads (and skips, the table is not
     * captured) at every heartbeat, whose position the slot then confirms. The publication is Tarn's: the captured
     * tables and the heartbeat table.
     */
    @Override
    public Map<String, String> prepare(String captureName, List<String> tables) {
        String publication = slotName(captureName);
        try (Connection connection = connect();
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS " + HEARTBEAT_TABLE
                    + " (source TEXT PRIMARY KEY, beat_at TIMESTAMPTZ NOT NULL)");
            List<String> published = new ArrayList<>();
            boolean exists;
            try (PreparedStatement query = connection.prepareStatement(
                    "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = ?")) {
                query.setString(1, publication);
                try (ResultSet rs = query.executeQuery()) {
                    while (rs.next()) {
                        published.add(rs.getString(1));
                    }
                }
            }
            try (PreparedStatement query =
                    connection.prepareStatement("SELECT count(*) FROM pg_publication WHERE pubname = ?")) {
                query.setString(1, publication);
                try (ResultSet rs = query.executeQuery()) {
                    rs.next();
                    exists = rs.getLong(1) > 0;
                }
            }
            if (!exists) {
                List<String> names = new ArrayList<>();
                for (String table : tables) {
                    String[] parts = table.split("\\.", 2);
                    names.add(identifier(parts[0]) + "." + identifier(parts[1]));
                }
                names.add(HEARTBEAT_TABLE);
                statement.execute(
                        "CREATE PUBLICATION " + identifier(publication) + " FOR TABLE " + String.join(", ", names));
            } else if (!published.contains("public.tarn_heartbeat")) {
                statement.execute("ALTER PUBLICATION " + identifier(publication) + " ADD TABLE " + HEARTBEAT_TABLE);
            }
            return Map.of(
                    "publication.autocreate.mode",
                    "disabled",
                    "heartbeat.action.query",
                    "INSERT INTO %s (source, beat_at) VALUES ('%s', now()) ON CONFLICT (source) DO UPDATE SET beat_at ="
                                    .formatted(HEARTBEAT_TABLE, captureName.replace("'", "''"))
                            + " EXCLUDED.beat_at");
        } catch (SQLException e) {
            LOG.warn(
                    "Capture {}: the heartbeat table {} cannot be made ready ({}); while its tables are quiet, its slot"
                            + " may keep the WAL other tables write",
                    captureName,
                    HEARTBEAT_TABLE,
                    e.getMessage());
            return Map.of();
        }
    }

    private static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    @Override
    public String metricsDomain() {
        return "debezium.postgres";
    }

    /** {@inheritDoc} Retained bytes are the WAL the server keeps for the capture's slot. */
    @Override
    public Lag lag(String captureName, Map<String, ?> captured) {
        long lsn = captured.get("lsn") instanceof Number n ? n.longValue() : 0;
        Optional<SlotPosition> slot = slot(slotName(captureName));
        if (slot.isEmpty()) {
            return new Lag(
                    lsn == 0 ? "" : lsn(lsn),
                    "",
                    "",
                    0,
                    0,
                    false,
                    List.of("replication slot " + slotName(captureName) + " does not exist (yet)"));
        }
        SlotPosition s = slot.get();
        return new Lag(
                lsn == 0 ? "" : lsn(lsn),
                lsn(s.currentLsn()),
                lsn(s.confirmedLsn()),
                lsn == 0 ? 0 : Math.max(0, s.currentLsn() - lsn),
                s.retainedBytes(),
                s.active(),
                List.of());
    }

    /** A WAL position as PostgreSQL writes it, e.g. {@code 0/16B3748}. */
    static String lsn(long position) {
        return Long.toHexString(position >>> 32).toUpperCase(Locale.ROOT) + "/"
                + Long.toHexString(position & 0xffffffffL).toUpperCase(Locale.ROOT);
    }

    /** {@inheritDoc} Drops the slot (waiting while the just-stopped capture still counts as its user) and publication. */
    @Override
    public void dropCapture(String captureName) {
        String slot = slotName(captureName);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (slot(slot).map(SlotPosition::active).orElse(false) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TarnException(ErrorCode.INTERNAL_ERROR, "interrupted while dropping slot " + slot, e);
            }
        }
        dropSlotAndPublication(slot, slot);
        try (Connection connection = connect();
                Statement exists = connection.createStatement();
                ResultSet rs = exists.executeQuery("SELECT to_regclass('" + HEARTBEAT_TABLE + "') IS NOT NULL")) {
            if (rs.next() && rs.getBoolean(1)) {
                try (PreparedStatement delete =
                        connection.prepareStatement("DELETE FROM " + HEARTBEAT_TABLE + " WHERE source = ?")) {
                    delete.setString(1, captureName);
                    delete.execute();
                }
            }
        } catch (SQLException e) {
            throw unavailable("could not remove the heartbeat of capture " + captureName, e);
        }
    }

    /**
     * Drops a replication slot (it must not be in use) and a publication; either may already be gone.
     *
     * @throws TarnException {@link ErrorCode#SOURCE_UNAVAILABLE} when the database cannot be reached or refuses
     */
    public void dropSlotAndPublication(String slotName, String publication) {
        try (Connection connection = connect()) {
            try (PreparedStatement statement = connection.prepareStatement(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
                statement.setString(1, slotName);
                statement.execute();
            }
            try (Statement statement = connection.createStatement()) {
                statement.execute("DROP PUBLICATION IF EXISTS " + identifier(publication));
            }

        } catch (SQLException e) {
            throw unavailable("could not drop replication slot " + slotName + " and its publication", e);
        }
    }
}
