package io.tarn.cdc;

import static java.util.Objects.requireNonNull;

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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * A captured MariaDB database (row-based binlog, read by Debezium as a replica), asked over short JDBC connections:
 * whether the binlog is on in {@code ROW} format with full row images, the columns and primary key of each table
 * ({@code database.table}), and how far a capture is behind the server's binlog. A capture keeps nothing in MariaDB;
 * its table schema history is a file next to its offsets.
 */
public final class MariaDbDatabase implements SourceDatabase {
    private final ConnectionUrl url;
    private final String user;
    private final String password;

    public MariaDbDatabase(ConnectionUrl url, String user, String password) {
        this.url = requireNonNull(url, "url is null");
        this.user = requireNonNull(user, "user is null");
        this.password = requireNonNull(password, "password is null");
    }

    @Override
    public ConnectionUrl url() {
        return url;
    }

    @Override
    public String defaultSchema() {
        return url.database();
    }

    /** {@inheritDoc} MariaDB needs {@code log_bin} on, {@code binlog_format=ROW} and {@code binlog_row_image=FULL}. */
    @Override
    public List<TableSchema> describe(List<String> tables) {
        try (Connection connection = connect()) {
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
            List<TableSchema> schemas = new ArrayList<>();
            for (String table : tables) {
                schemas.add(describe(connection, table));
            }
            return schemas;
        } catch (SQLException e) {
            throw unavailable("could not be described", e);
        }
    }

    private static TableSchema describe(Connection connection, String table) throws SQLException {
        String[] parts = table.split("\\.", -1);
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "table '%s' must be given as database.table".formatted(table));
        }
        List<ColumnSpec> columns = new ArrayList<>();
        List<String> keyColumns = new ArrayList<>();
        try (PreparedStatement key = connection.prepareStatement(
                """
                SELECT k.COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE k
                JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = k.TABLE_SCHEMA AND t.TABLE_NAME = k.TABLE_NAME
                WHERE k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ? AND k.CONSTRAINT_NAME = 'PRIMARY'
                  AND t.TABLE_TYPE = 'BASE TABLE'
                ORDER BY k.ORDINAL_POSITION""")) {
            key.setString(1, parts[0]);
            key.setString(2, parts[1]);
            try (ResultSet rs = key.executeQuery()) {
                while (rs.next()) {
                    keyColumns.add(rs.getString(1));
                }
            }
        }
        try (PreparedStatement statement = connection.prepareStatement(
                """
                SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.NUMERIC_PRECISION, c.NUMERIC_SCALE
                FROM information_schema.COLUMNS c
                JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
                WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ? AND t.TABLE_TYPE = 'BASE TABLE'
                ORDER BY c.ORDINAL_POSITION""")) {
            statement.setString(1, parts[0]);
            statement.setString(2, parts[1]);
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
                }
            }
        }
        if (columns.isEmpty()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "table '%s' does not exist in the database (or the user may not see it)".formatted(table));
        }
        if (keyColumns.isEmpty()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "table '%s' has no primary key; Tarn captures tables by key (its changes are upserts into the lake)"
                            .formatted(table));
        }
        return new TableSchema(table, columns, keyColumns);
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
        p.setProperty("database.user", user);
        p.setProperty("database.password", password);
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

    private Connection connect() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        url.parameters().forEach(properties::setProperty);
        String jdbc = "jdbc:mariadb://%s:%d/%s".formatted(url.host(), url.port(), url.database());
        Connection connection = new org.mariadb.jdbc.Driver().connect(jdbc, properties);
        if (connection == null) {
            throw new SQLException("the MariaDB driver did not accept the connection URL");
        }
        return connection;
    }

    private TarnException unavailable(String what, SQLException e) {
        return new TarnException(
                ErrorCode.SOURCE_UNAVAILABLE,
                "database %s at %s:%d %s: %s".formatted(url.database(), url.host(), url.port(), what, e.getMessage()),
                e);
    }
}
