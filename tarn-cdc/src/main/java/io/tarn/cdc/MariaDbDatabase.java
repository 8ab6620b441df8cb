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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.mariadb.jdbc.Driver;

/**
 * A captured MariaDB database (row-based binlog, read by Debezium as a replica), asked over short JDBC connections:
 * whether the binlog is on in {@code ROW} format with full row images, the columns and primary key of each table
 * ({@code database.table}), and how far a capture is behind the server's binlog. A capture keeps nothing in MariaDB;
 * its table schema history is a file next to its offsets.
 */
public final class MariaDbDatabase extends JdbcSourceDatabase {
    public MariaDbDatabase(ConnectionUrl url, String user, String password) {
        super(url, user, password, new Driver());
    }

    @Override
    public String defaultSchema() {
        return url.database();
    }

    @Override
    String schemaWord() {
        return "database";
    }

    /** MariaDB needs {@code log_bin} on, {@code binlog_format=ROW} and {@code binlog_row_image=FULL}. */
    @Override
    void checkSetup(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT @@log_bin, @@binlog_format, @@binlog_row_image")) {
            rs.next();
            if (!rs.getBoolean(1)
                    || !"ROW".equalsIgnoreCase(rs.getString(2))
                    || !"FULL".equalsIgnoreCase(rs.getString(3))) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        ("database %s has log_bin=%s, binlog_format=%s, binlog_row_image=%s; change data capture"
                                        + " needs log_bin=ON, binlog_format=ROW and binlog_row_image=FULL")
                                .formatted(
                                        url.database(),
                                        rs.getBoolean(1) ? "ON" : "OFF",
                                        rs.getString(2),
                                        rs.getString(3)));
            }
        }
    }

    @Override
    TableSchema describe(Connection connection, String table, String schema, String name) throws SQLException {
        List<ColumnSpec> columns = new ArrayList<>();
        List<String> keyColumns = new ArrayList<>();
        Set<String> defaulted = new HashSet<>();
        try (PreparedStatement key = connection.prepareStatement(
                """
                SELECT k.COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE k
                JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = k.TABLE_SCHEMA AND t.TABLE_NAME = k.TABLE_NAME
                WHERE k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ? AND k.CONSTRAINT_NAME = 'PRIMARY'
                  AND t.TABLE_TYPE = 'BASE TABLE'
                ORDER BY k.ORDINAL_POSITION""")) {
            key.setString(1, schema);
            key.setString(2, name);
            try (ResultSet rs = key.executeQuery()) {
                while (rs.next()) {
                    keyColumns.add(rs.getString(1));
                }
            }
        }
        try (PreparedStatement statement = connection.prepareStatement(
                """
                SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.NUMERIC_PRECISION, c.NUMERIC_SCALE, c.COLUMN_DEFAULT
                FROM information_schema.COLUMNS c
                JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
                WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ? AND t.TABLE_TYPE = 'BASE TABLE'
                ORDER BY c.ORDINAL_POSITION""")) {
            statement.setString(1, schema);
            statement.setString(2, name);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    String column = rs.getString(1);
                    String type = flinkType(
                            table,
                            column,
                            rs.getString(2).toLowerCase(Locale.ROOT),
                            rs.getString(3).toLowerCase(Locale.ROOT),
                            rs.getInt(4),
                            rs.getInt(5));
                    columns.add(ColumnSpec.of(column, keyColumns.contains(column) ? type + " NOT NULL" : type));
                    // MariaDB shows a column without a default as the text NULL (a SQL null before 10.2.7)
                    String defaultValue = rs.getString(6);
                    if (defaultValue != null && !defaultValue.equalsIgnoreCase("NULL")) {
                        defaulted.add(column);
                    }
                }
            }
        }
        return new TableSchema(table, columns, keyColumns, defaulted);
    }

    /**
     * The Flink SQL type a MariaDB column is carried as, given how Tarn configures Debezium (precise decimals and
     * unsigned BIGINTs, microsecond times) and how {@link ChangeEnvelope} writes the values.
     */
    static String flinkType(String table, String column, String dataType, String columnType, int precision, int scale) {
        boolean unsigned = columnType.contains("unsigned");
        return switch (dataType) {
            case "tinyint", "smallint", "mediumint", "year" -> "INT";
            case "int", "integer" -> unsigned ? "BIGINT" : "INT";
            case "bigint" -> unsigned ? "DECIMAL(20, 0)" : "BIGINT";
            case "bit" -> columnType.equals("bit(1)") ? "BOOLEAN" : "BYTES";
            case "decimal", "numeric" -> precision <= 38 ? "DECIMAL(%d, %d)".formatted(precision, scale) : "STRING";
            case "float" -> "FLOAT";
            case "double", "real" -> "DOUBLE";
            case "char",
                    "varchar",
                    "tinytext",
                    "text",
                    "mediumtext",
                    "longtext",
                    "enum",
                    "set",
                    "json",
                    "uuid",
                    "inet4",
                    "inet6",
                    "time" -> "STRING"; // time: Flink's TIME keeps milliseconds only, text keeps the microseconds
            case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> "BYTES";
            case "date" -> "DATE";
            case "datetime" -> "TIMESTAMP(6)";
            case "timestamp" -> "TIMESTAMP_LTZ(6)";
            default ->
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        ("column '%s' of table '%s' has type %s, which Tarn cannot capture yet; leave the table out or"
                                        + " change the column's type")
                                .formatted(column, table, columnType));
        };
    }

    @Override
    public Properties connector(String captureName, Path stateDirectory, List<String> tables) {
        Properties p = new Properties();
        p.setProperty("connector.class", "io.debezium.connector.mariadb.MariaDbConnector");
        p.setProperty("database.hostname", url.host());
        p.setProperty("database.port", String.valueOf(url.port()));
        p.setProperty("database.user", user());
        p.setProperty("database.password", password());
        // a replica's id, unique among the server's replicas; derived from the capture's name so it stays the same
        p.setProperty(
                "database.server.id", String.valueOf(5_400_000 + Math.floorMod(captureName.hashCode(), 1_000_000)));
        Map<String, String> parameters = url.parameters();
        if (parameters.containsKey("sslMode")) {
            p.setProperty("database.ssl.mode", parameters.get("sslMode"));
        }
        if (parameters.containsKey("connectTimeout")) {
            p.setProperty("connect.timeout.ms", parameters.get("connectTimeout"));
        }
        LinkedHashSet<String> databases = new LinkedHashSet<>();
        tables.forEach(t -> databases.add(t.substring(0, t.indexOf('.'))));
        p.setProperty("database.include.list", String.join(",", databases));
        p.setProperty("table.include.list", String.join(",", tables));
        // schema changes come as DDL records: Tarn looks for TRUNCATE in them (MariaDB logs no row events for it)
        p.setProperty("include.schema.changes", "true");
        p.setProperty("schema.history.internal", "io.debezium.storage.file.history.FileSchemaHistory");
        p.setProperty(
                "schema.history.internal.file.filename",
                stateDirectory.resolve("schema-history.dat").toString());
        p.setProperty("bigint.unsigned.handling.mode", "precise");
        return p;
    }

    @Override
    public String metricsDomain() {
        return "debezium.mariadb";
    }

    /** {@inheritDoc} MariaDB keeps its binlog by its own retention, not for a capture: nothing is retained for it. */
    @Override
    public Lag lag(String captureName, Map<String, ?> captured) {
        String file = captured.get("file") instanceof String f ? f : null;
        long pos = captured.get("pos") instanceof Number n ? n.longValue() : 0;
        try (Connection connection = connect();
                Statement statement = connection.createStatement()) {
            String server = "";
            try (ResultSet rs = statement.executeQuery("SHOW MASTER STATUS")) {
                if (rs.next()) {
                    server = rs.getString(1) + ":" + rs.getLong(2);
                }
            }
            long behind = 0;
            boolean found = file == null;
            try (ResultSet rs = statement.executeQuery("SHOW BINARY LOGS")) {
                while (rs.next()) {
                    String log = rs.getString(1);
                    long size = rs.getLong(2);
                    if (log.equals(file)) {
                        found = true;
                        behind += Math.max(0, size - pos);
                    } else if (file != null && found) {
                        behind += size;
                    }
                }
            }
            List<String> warnings = found
                    ? List.of()
                    : List.of(("binlog %s, where this source's capture stands, is no longer on the server; the changes"
                                    + " after it cannot be captured: delete and re-create the source")
                            .formatted(file));
            String at = file == null ? "" : file + ":" + pos;
            return new Lag(at, server, "", file == null ? 0 : behind, 0, file != null, warnings);
        } catch (SQLException e) {
            throw unavailable("could not be asked for its binlog", e);
        }
    }

    /** {@inheritDoc} A MariaDB capture keeps nothing in the database. */
    @Override
    public void dropCapture(String captureName) {}
}
