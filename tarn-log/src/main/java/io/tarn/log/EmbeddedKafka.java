package io.tarn.log;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool$;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka node in KRaft mode (broker and controller in the same process), storing its log under a directory.
 *
 * <p>The directory is formatted once, the way {@code kafka-storage.sh format} does, and reused on every later start,
 * so topics and records survive restarts. By default durability is Kafka's for one node: an acknowledged record is in
 * the operating system's page cache and survives a process crash, but not a power loss (there is no replica). With
 * {@code fsyncEveryAppend} every append is flushed to disk before it is acknowledged.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    /** The mechanisms of the SASL listener; credentials are kept in the cluster's metadata (KRaft). */
    public static final List<String> SCRAM_MECHANISMS = List.of("SCRAM-SHA-256", "SCRAM-SHA-512");

    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private final Optional<String> saslBootstrapServers;

    private EmbeddedKafka(KafkaRaftServer server, String bootstrapServers, Optional<String> saslBootstrapServers) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.saslBootstrapServers = saslBootstrapServers;
    }

    /**
     * Starts the node, formatting {@code directory} first if it holds no Kafka log yet.
     *
     * @param port Kafka protocol port, 0 for a free one
     * @param fsyncEveryAppend flush every append to disk before it is acknowledged ({@code log.flush.interval.messages=1})
     * @throws TarnException {@link ErrorCode#LOG_UNAVAILABLE} when the node cannot start (port taken, bad directory)
     */
    public static EmbeddedKafka start(
            Path directory, String host, int port, int maxRecordBytes, boolean fsyncEveryAppend) {
        return start(directory, host, port, maxRecordBytes, fsyncEveryAppend, Optional.empty());
    }

    /**
     * Starts the node as {@link #start(Path, String, int, int, boolean)} does, with a second listener for clients that
     * authenticate: SASL/SCRAM on {@code saslHost:saslPort}, where Kafka's {@code StandardAuthorizer} allows each
     * user only what its ACLs grant. The first listener's clients ({@code User:ANONYMOUS}: Tarn itself and local
     * programs) are super users.
     *
     * @param sasl host and port (0 for a free one) of the SASL listener, if there is to be one
     */
    public static EmbeddedKafka start(
            Path directory,
            String host,
            int port,
            int maxRecordBytes,
            boolean fsyncEveryAppend,
            Optional<Map.Entry<String, Integer>> sasl) {
        try {
            int brokerPort = port == 0 ? freePort() : port;
            int controllerPort = freePortBut(Set.of(brokerPort));
            Path logDir = directory.resolve("logs");
            Files.createDirectories(logDir);
            Properties props = properties(host, brokerPort, controllerPort, logDir, maxRecordBytes);
            Optional<String> saslBootstrap = Optional.empty();
            if (sasl.isPresent()) {
                String saslHost = sasl.get().getKey();
                int saslPort = sasl.get().getValue() == 0
                        ? freePortBut(Set.of(brokerPort, controllerPort))
                        : sasl.get().getValue();
                props.put(
                        "listeners",
                        props.getProperty("listeners") + ",SASL_PLAINTEXT://%s:%d".formatted(saslHost, saslPort));
                props.put(
                        "advertised.listeners",
                        props.getProperty("advertised.listeners")
                                + ",SASL_PLAINTEXT://%s:%d".formatted(saslHost, saslPort));
                props.put(
                        "listener.security.protocol.map",
                        props.getProperty("listener.security.protocol.map") + ",SASL_PLAINTEXT:SASL_PLAINTEXT");
                props.put("sasl.enabled.mechanisms", String.join(",", SCRAM_MECHANISMS));
                for (String mechanism : SCRAM_MECHANISMS) {
                    props.put(
                            "listener.name.sasl_plaintext.%s.sasl.jaas.config"
                                    .formatted(mechanism.toLowerCase(Locale.ROOT)),
                            "org.apache.kafka.common.security.scram.ScramLoginModule required;");
                }
                props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
                props.put("super.users", "User:ANONYMOUS");
                props.put("allow.everyone.if.no.acl.found", "false");
                saslBootstrap = Optional.of(saslHost + ":" + saslPort);
            }
            if (fsyncEveryAppend) {
                // Kafka flushes in the append path, before the leader answers the producer.
                props.put("log.flush.interval.messages", "1");
            }
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                format(directory, props);
            }
            KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server.startup();
            String bootstrap = host + ":" + brokerPort;
            awaitGroupCoordinator(bootstrap);
            LOG.info(
                    "Embedded Kafka broker started at {}{} (log in {}, durability {})",
                    bootstrap,
                    saslBootstrap.map(b -> ", SASL/SCRAM at " + b).orElse(""),
                    logDir,
                    fsyncEveryAppend ? "fsync" : "os");
            return new EmbeddedKafka(server, bootstrap, saslBootstrap);
        } catch (IOException | RuntimeException e) {
            throw new TarnException(
                    ErrorCode.LOG_UNAVAILABLE,
                    "embedded Kafka broker could not start on port %d: %s"
                            .formatted(port, TarnException.rootMessage(e)),
                    e);
        }
    }

    /**
     * Waits until consumer groups have a coordinator: the broker creates its offsets topic on the first request for
     * one, and until it has, every pipeline's first offset commit failed with a warning and a stack trace.
     */
    private static void awaitGroupCoordinator(String bootstrap) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                try {
                    admin.describeConsumerGroups(List.of("tarn-start")).all().get(10, TimeUnit.SECONDS);
                    return;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof GroupIdNotFoundException) {
                        return; // a coordinator answered: the group does not exist, as expected
                    }
                    if (System.nanoTime() > deadline) {
                        LOG.warn("Consumer groups of the embedded broker have no coordinator yet: {}", e.getMessage());
                        return;
                    }
                    Thread.sleep(100);
                } catch (TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        LOG.warn("Consumer groups of the embedded broker have no coordinator yet: {}", e.getMessage());
                        return;
                    }
                    Thread.sleep(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Properties properties(
            String host, int brokerPort, int controllerPort, Path logDir, int maxRecordBytes) {
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@localhost:" + controllerPort);
        props.put(
                "listeners", "PLAINTEXT://%s:%d,CONTROLLER://localhost:%d".formatted(host, brokerPort, controllerPort));
        props.put("advertised.listeners", "PLAINTEXT://%s:%d".formatted(host, brokerPort));
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("log.dirs", logDir.toString());
        props.put("metadata.log.dir", logDir.toString());
        // One node: internal topics cannot have more than one replica (consumer groups and transactions otherwise hang
        // on INVALID_REPLICATION_FACTOR).
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "5");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "5");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("auto.create.topics.enable", "false");
        props.put("message.max.bytes", String.valueOf(maxBatchBytes(maxRecordBytes)));
        props.put("num.network.threads", "2");
        props.put("num.io.threads", "4");
        // After a crash the restarted node's controller still sees the old broker registration as live and refuses the
        // new one until that session times out (KAFKA-19130 covers clean shutdowns only): 9 s by default, for a
        // broker that shares the controller's process. A 4 s session keeps a margin for GC pauses.
        props.put("broker.session.timeout.ms", "4000");
        props.put("broker.heartbeat.interval.ms", "1000");
        return props;
    }

    private static void format(Path directory, Properties props) throws IOException {
        Path file = directory.resolve("server.properties");
        try (var out = Files.newOutputStream(file)) {
            props.store(out, "Written by Tarn to format the embedded broker's log; not read on later starts");
        }
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        int code = StorageTool$.MODULE$.execute(
                new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c", file.toString()},
                new PrintStream(printed, true, StandardCharsets.UTF_8));
        if (code != 0) {
            throw new IOException("formatting the Kafka log failed: "
                    + printed.toString(StandardCharsets.UTF_8).strip());
        }
    }

    /**
     * The broker's limit applies to a whole record batch, not to one record: it must stay above the producers' batch
     * size, or the idempotent producer splits batches and can stall on out-of-order sequence numbers.
     */
    public static int maxBatchBytes(int maxRecordBytes) {
        return Math.max(maxRecordBytes, 1024 * 1024) + 64 * 1024;
    }

    /**
     * A free port other than the given ones: the system may hand out a port again as soon as its probe socket is
     * closed, and two listeners on one port refuse to start ("Each listener must have a different port").
     */
    static int freePortBut(Set<Integer> taken) throws IOException {
        while (true) {
            int candidate = freePort();
            if (!taken.contains(candidate)) {
                return candidate;
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    /** {@code host:port} of the SASL/SCRAM listener, if the node has one. */
    public Optional<String> saslBootstrapServers() {
        return saslBootstrapServers;
    }

    /** {@code host:port} of the Kafka protocol listener. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        LOG.info("Embedded Kafka broker stopped");
    }
}
