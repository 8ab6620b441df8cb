package io.tarn.cdc;

import io.debezium.embedded.KafkaConnectUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.apache.kafka.connect.storage.FileOffsetBackingStore;
import org.apache.kafka.connect.util.SafeObjectInputStream;

/**
 * Debezium's offsets in a file of the capture's state directory, replaced atomically: each save writes a new file,
 * forces it to disk and renames it over the old one, so after a crash at any moment the file holds the offsets of
 * one complete save.
 *
 * <p>Why not Kafka Connect's {@link FileOffsetBackingStore} as it is: it truncates the file and writes it in place,
 * and it reads a truncated file as "no offsets". A capture saves after every acknowledged batch, so a {@code kill -9}
 * can land inside a save; the capture then started over with a new snapshot, which has no delete event for a row
 * deleted meanwhile, and the mirror kept such rows. This class writes the same format (a serialized map of key and
 * value bytes) to the same file, so state directories of earlier versions load unchanged, and it refuses to start
 * on an offsets file it cannot read instead of starting over.
 */
public final class AtomicOffsetFile extends FileOffsetBackingStore {
    private Path file;

    /** The engine instantiates its offset store by class name, with no arguments. */
    public AtomicOffsetFile() {
        super(KafkaConnectUtil.converterForOffsetStore());
    }

    @Override
    public void configure(WorkerConfig config) {
        super.configure(config);
        file = Path.of(config.getString(StandaloneConfig.OFFSET_STORAGE_FILE_FILENAME_CONFIG));
    }

    @Override
    public synchronized void start() {
        try {
            Files.deleteIfExists(temporary()); // a save cut off before its rename
            if (Files.exists(file)) {
                check(file);
            }
        } catch (IOException e) {
            throw new ConnectException("the capture's stored offsets could not be read: " + reason(e), e);
        }
        super.start();
    }

    /** Fails unless the file holds a complete map, as the parent's load would otherwise read it as empty. */
    private static void check(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file);
                SafeObjectInputStream objects = new SafeObjectInputStream(in)) {
            if (!(objects.readObject() instanceof Map)) {
                throw new IOException("not a map of offsets");
            }
        } catch (IOException | ClassNotFoundException e) {
            throw new ConnectException(
                    ("the capture's stored offsets are unreadable (%s), so where it stopped is unknown; delete and"
                                    + " re-create the source to snapshot its tables again")
                            .formatted(e.getClass().getSimpleName()),
                    e);
        }
    }

    @Override
    protected void save() {
        Map<byte[], byte[]> raw = new HashMap<>();
        for (Map.Entry<ByteBuffer, ByteBuffer> entry : data.entrySet()) {
            raw.put(
                    entry.getKey() == null ? null : entry.getKey().array(),
                    entry.getValue() == null ? null : entry.getValue().array());
        }
        Path temporary = temporary();
        try {
            try (FileChannel channel = FileChannel.open(
                            temporary,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.TRUNCATE_EXISTING,
                            StandardOpenOption.WRITE);
                    OutputStream out = Channels.newOutputStream(channel);
                    ObjectOutputStream objects = new ObjectOutputStream(out)) {
                objects.writeObject(raw);
                objects.flush();
                channel.force(true);
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel directory = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                directory.force(true); // the rename itself, for a power loss
            }
        } catch (IOException e) {
            throw new ConnectException("the capture's offsets could not be saved: " + reason(e), e);
        }
    }

    /** Why a file operation failed, without the path (which a message of the API must not show). */
    private static String reason(IOException e) {
        return e instanceof FileSystemException f && f.getReason() != null
                ? f.getReason()
                : e.getClass().getSimpleName();
    }

    private Path temporary() {
        return file.resolveSibling(file.getFileName() + ".saving");
    }
}
