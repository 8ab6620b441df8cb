package io.tarn.cdc;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * What the databases Tarn captures share: short JDBC connections with the user, password and allow-listed driver
 * parameters of a {@link ConnectionUrl}, errors that name the database but never the password, and the frame of
 * {@link #describe}: check the database's setup, then read each {@code schema.table} and refuse it when it is missing
 * or has no primary key.
 */
abstract class JdbcSourceDatabase implements SourceDatabase {
    protected final ConnectionUrl url;
    private final String user;
    private final String password;
    private final Driver driver;

    JdbcSourceDatabase(ConnectionUrl url, String user, String password, Driver driver) {
        this.url = requireNonNull(url, "url is null");
        this.user = requireNonNull(user, "user is null");
        this.password = requireNonNull(password, "password is null");
        this.driver = requireNonNull(driver, "driver is null");
    }

    @Override
    public ConnectionUrl url() {
        return url;
    }

    protected String user() {
        return user;
    }

    protected String password() {
        return password;
    }

    @Override
    public final List<TableSchema> describe(List<String> tables) {
        try (Connection connection = connect()) {
            checkSetup(connection);
            List<TableSchema> schemas = new ArrayList<>();
            for (String table : tables) {
                String[] parts = table.split("\\.", -1);
                if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                    throw new TarnException(
                            ErrorCode.INVALID_REQUEST,
                            "table '%s' must be given as %s.table".formatted(table, schemaWord()));
                }
                TableSchema schema = describe(connection, table, parts[0], parts[1]);
                if (schema.columns().isEmpty()) {
                    throw new TarnException(
                            ErrorCode.INVALID_REQUEST,
                            "table '%s' does not exist in the database (or the user may not see it)".formatted(table));
                }
                if (schema.primaryKey().isEmpty()) {
                    throw new TarnException(
                            ErrorCode.INVALID_REQUEST,
                            ("table '%s' has no primary key; Tarn captures tables by key (its changes are upserts into"
                                            + " the lake)")
                                    .formatted(table));
                }
                schemas.add(schema);
            }
            return schemas;
        } catch (SQLException e) {
            throw unavailable("could not be described", e);
        }
    }

    /** What the part before the dot of a table name is called: {@code schema} or {@code database}. */
    abstract String schemaWord();

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming what the database lacks to be captured
     */
    abstract void checkSetup(Connection connection) throws SQLException;

    /**
     * A table's columns and primary key as the database has them; no columns when there is no such table.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for a column of a type Tarn cannot carry
     */
    abstract TableSchema describe(Connection connection, String table, String schema, String name) throws SQLException;

    final Connection connect() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        url.driverProperties().forEach(properties::setProperty);
        String jdbc = "jdbc:%s://%s:%d/%s".formatted(url.kind(), url.host(), url.port(), url.database());
        Connection connection = driver.connect(jdbc, properties);
        if (connection == null) {
            throw new SQLException("the " + url.kind() + " driver did not accept the connection URL");
        }
        return connection;
    }

    final TarnException unavailable(String what, SQLException e) {
        return new TarnException(
                ErrorCode.SOURCE_UNAVAILABLE,
                "database %s at %s:%d %s: %s".formatted(url.database(), url.host(), url.port(), what, e.getMessage()),
                e);
    }
}
