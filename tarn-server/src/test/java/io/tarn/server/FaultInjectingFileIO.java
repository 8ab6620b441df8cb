package io.tarn.server;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.apache.iceberg.hadoop.HadoopFileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;

/**
 * Test-only hook at Iceberg's commit boundary: a {@link HadoopFileIO} that halts the whole JVM (as a power cut or
 * kill -9 would end it) the n-th time a chosen point of the write path is reached. Tarn is given it with
 * {@code lake.file-io} and the point with the environment variable {@code TARN_TEST_FAULT=<point>:<n>}:
 *
 * <ul>
 *   <li>{@code data-file-written}: a writer has just closed (flushed) a data file, before any checkpoint took it;
 *   <li>{@code before-commit}: a checkpoint completed and the committer is about to write the snapshot's manifest list,
 *       so the commit has not happened;
 *   <li>{@code after-commit}: the catalog has persisted a commit and the committer is cleaning its temporary manifests,
 *       so the commit happened but its outcome never reached Flink (a lost response);
 *   <li>{@code rewrite-written}: compaction has written a partition's new files and reads their metrics, before it
 *       commits them.
 * </ul>
 *
 * Before halting it prints {@code FAULT INJECTED <point> <file name>} on standard output.
 */
public final class FaultInjectingFileIO extends HadoopFileIO {
    static final String ENVIRONMENT = "TARN_TEST_FAULT";
    static final int EXIT_CODE = 99;

    /** Flink's temporary manifests are named {@code <job id>-<operator id>-...avro}. */
    private static final Pattern FLINK_MANIFEST = Pattern.compile("[0-9a-f]{32}-.*\\.avro");

    private static final String POINT;
    private static final int AT;
    private static final AtomicInteger HITS = new AtomicInteger();

    static {
        String fault = System.getenv(ENVIRONMENT);
        if (fault == null || fault.isBlank()) {
            POINT = "";
            AT = 0;
        } else {
            String[] parts = fault.split(":");
            POINT = parts[0];
            AT = Integer.parseInt(parts[1]);
        }
    }

    @Override
    public OutputFile newOutputFile(String path) {
        OutputFile file = super.newOutputFile(path);
        String name = name(path);
        if (POINT.equals("before-commit") && name.startsWith("snap-")) {
            hit(name);
        }
        if (POINT.equals("data-file-written") && path.contains("/data/") && name.endsWith(".parquet")) {
            return new HookedOutputFile(file, name);
        }
        return file;
    }

    @Override
    public InputFile newInputFile(String path) {
        if (POINT.equals("rewrite-written") && path.contains("/tarn-compaction-")) {
            hit(name(path));
        }
        return super.newInputFile(path);
    }

    @Override
    public void deleteFile(String path) {
        if (POINT.equals("after-commit") && FLINK_MANIFEST.matcher(name(path)).matches()) {
            hit(name(path));
        }
        super.deleteFile(path);
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static void hit(String name) {
        if (HITS.incrementAndGet() == AT) {
            System.out.println("FAULT INJECTED " + POINT + " " + name);
            System.out.flush();
            Runtime.getRuntime().halt(EXIT_CODE);
        }
    }

    /** An output file whose stream reports to {@link #hit} once it is closed. */
    private record HookedOutputFile(OutputFile file, String name) implements OutputFile {
        @Override
        public PositionOutputStream create() {
            return new HookedStream(file.create(), name);
        }

        @Override
        public PositionOutputStream createOrOverwrite() {
            return new HookedStream(file.createOrOverwrite(), name);
        }

        @Override
        public String location() {
            return file.location();
        }

        @Override
        public InputFile toInputFile() {
            return file.toInputFile();
        }
    }

    private static final class HookedStream extends PositionOutputStream {
        private final PositionOutputStream stream;
        private final String name;

        HookedStream(PositionOutputStream stream, String name) {
            this.stream = stream;
            this.name = name;
        }

        @Override
        public long getPos() throws IOException {
            return stream.getPos();
        }

        @Override
        public long storedLength() throws IOException {
            return stream.storedLength();
        }

        @Override
        public void write(int b) throws IOException {
            stream.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            stream.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            stream.flush();
        }

        @Override
        public void close() throws IOException {
            stream.close();
            hit(name);
        }
    }
}
