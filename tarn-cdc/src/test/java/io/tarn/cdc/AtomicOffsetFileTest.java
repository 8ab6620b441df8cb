package io.tarn.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ObjectInputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicOffsetFileTest {
    @TempDir
    Path dir;

    @Test
    void offsetsSavedByOneRunAreReadByTheNext() throws Exception {
        AtomicOffsetFile first = started();
        first.set(Map.of(bytes("partition"), bytes("lsn=42")), null).get(10, TimeUnit.SECONDS);
        first.set(Map.of(bytes("partition"), bytes("lsn=43")), null).get(10, TimeUnit.SECONDS);
        first.stop();

        AtomicOffsetFile second = started();
        assertThat(second.get(List.of(bytes("partition"))).get(10, TimeUnit.SECONDS))
                .isEqualTo(Map.of(bytes("partition"), bytes("lsn=43")));
        second.stop();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("offsets.dat");
        }
    }

    /**
     * Kafka Connect's own file store truncates the file before it writes it, so a crash inside a save left an empty
     * file, read as no offsets at all: a reader of the file (the next run) must only ever find a whole save.
     */
    @Test
    void aReaderAtAnyMomentFindsTheOffsetsOfOneCompleteSave() throws Exception {
        AtomicOffsetFile store = started();
        store.set(Map.of(bytes("partition"), bytes("offset-0")), null).get(10, TimeUnit.SECONDS);
        AtomicBoolean saving = new AtomicBoolean(true);
        AtomicInteger reads = new AtomicInteger();
        List<String> seen = new ArrayList<>();
        Thread reader = new Thread(() -> {
            while (saving.get()) {
                seen.add(readOffset(dir.resolve("offsets.dat")));
                reads.incrementAndGet();
            }
        });
        reader.start();
        int saves = 500;
        for (int i = 1; i <= saves; i++) {
            // a payload of a few kilobytes, so that a write in place would be visible half done
            store.set(Map.of(bytes("partition"), bytes("offset-" + i + "-" + "x".repeat(8192))), null)
                    .get(10, TimeUnit.SECONDS);
        }
        saving.set(false);
        reader.join();
        store.stop();

        assertThat(reads.get()).isGreaterThan(0);
        assertThat(seen).allSatisfy(offset -> assertThat(offset).startsWith("offset-"));
        assertThat(readOffset(dir.resolve("offsets.dat"))).startsWith("offset-" + saves + "-");
    }

    @Test
    void anUnreadableOffsetsFileStopsTheCaptureInsteadOfStartingItOver() throws Exception {
        AtomicOffsetFile store = started();
        store.set(Map.of(bytes("partition"), bytes("lsn=42")), null).get(10, TimeUnit.SECONDS);
        store.stop();
        Path offsets = dir.resolve("offsets.dat");
        byte[] whole = Files.readAllBytes(offsets);
        byte[] cut = Arrays.copyOf(whole, whole.length / 2);
        Files.write(offsets, cut);

        AtomicOffsetFile next = configured();
        assertThatThrownBy(next::start)
                .isInstanceOf(ConnectException.class)
                .hasMessage("the capture's stored offsets are unreadable (EOFException), so where it stopped is"
                        + " unknown; delete and re-create the source to snapshot its tables again");
        assertThat(Files.readAllBytes(offsets)).isEqualTo(cut); // left as it was, for whoever looks into it

        Files.write(offsets, new byte[0]);
        assertThatThrownBy(configured()::start)
                .hasMessageStartingWith("the capture's stored offsets are unreadable (EOFException)");
    }

    @Test
    void aSaveCutOffBeforeItsRenameIsDiscardedAndTheLastCompleteSaveIsRead() throws Exception {
        AtomicOffsetFile store = started();
        store.set(Map.of(bytes("partition"), bytes("lsn=42")), null).get(10, TimeUnit.SECONDS);
        store.stop();
        Path partial = dir.resolve("offsets.dat.saving");
        Files.write(partial, new byte[] {(byte) 0xac, (byte) 0xed});

        AtomicOffsetFile next = started();
        assertThat(next.get(List.of(bytes("partition"))).get(10, TimeUnit.SECONDS))
                .isEqualTo(Map.of(bytes("partition"), bytes("lsn=42")));
        next.stop();
        assertThat(partial).doesNotExist();
    }

    private AtomicOffsetFile started() {
        AtomicOffsetFile store = configured();
        store.start();
        return store;
    }

    private AtomicOffsetFile configured() {
        AtomicOffsetFile store = new AtomicOffsetFile();
        store.configure(new StandaloneConfig(Map.of(
                StandaloneConfig.OFFSET_STORAGE_FILE_FILENAME_CONFIG,
                dir.resolve("offsets.dat").toString(),
                "key.converter",
                JsonConverter.class.getName(),
                "value.converter",
                JsonConverter.class.getName())));
        return store;
    }

    /** The offset value of key {@code partition} in the file, or what went wrong reading it. */
    @SuppressWarnings("unchecked")
    private static String readOffset(Path file) {
        try (ObjectInputStream in = new ObjectInputStream(Files.newInputStream(file))) {
            Map<byte[], byte[]> raw = (Map<byte[], byte[]>) in.readObject();
            return raw.values().stream()
                    .map(v -> new String(v, UTF_8))
                    .findFirst()
                    .orElse("no offsets");
        } catch (Exception e) {
            return "unreadable: " + e;
        }
    }

    private static ByteBuffer bytes(String text) {
        return ByteBuffer.wrap(text.getBytes(UTF_8));
    }
}
