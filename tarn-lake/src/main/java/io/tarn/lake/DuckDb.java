package io.tarn.lake;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * DuckDB as Tarn opens it, for queries and for compaction alike: in memory, loading no extension by itself, within a
 * memory limit beyond which it spills to a directory.
 */
final class DuckDb {
    private DuckDb() {}

    static Connection open(long memoryLimitBytes, Path spill) throws SQLException {
        Connection connection = DriverManager.getConnection("jdbc:duckdb:");
        try {
            execute(connection, "SET autoinstall_known_extensions = false");
            execute(connection, "SET autoload_known_extensions = false");
            execute(connection, "SET memory_limit = '%dKiB'".formatted(Math.max(1, memoryLimitBytes / 1024)));
            execute(connection, "SET temp_directory = " + ScanSql.literal(spill.toString()));
            return connection;
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
    }

    static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
