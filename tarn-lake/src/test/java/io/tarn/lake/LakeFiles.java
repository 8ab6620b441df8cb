package io.tarn.lake;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.types.TypeUtil;

/** Writes Parquet data and delete files with Iceberg's generic writers. */
final class LakeFiles {
    private LakeFiles() {}

    static DataFile data(Table table, List<Record> rows) throws IOException {
        DataWriter<Record> writer =
                new GenericAppenderFactory(table.schema()).newDataWriter(output(table), FileFormat.PARQUET, null);
        try (writer) {
            rows.forEach(writer::write);
        }
        return writer.toDataFile();
    }

    /** A data file of a table partitioned by the identity of its {@code region} column. */
    static DataFile data(Table table, List<Record> rows, String region) throws IOException {
        PartitionKey partition = new PartitionKey(table.spec(), table.schema());
        Record row = GenericRecord.create(table.schema());
        row.setField("region", region);
        partition.partition(row);
        DataWriter<Record> writer = new GenericAppenderFactory(table.schema(), table.spec())
                .newDataWriter(output(table), FileFormat.PARQUET, partition);
        try (writer) {
            rows.forEach(writer::write);
        }
        return writer.toDataFile();
    }

    /** An equality delete file removing rows whose {@code fieldId} column equals one of {@code keys}' values. */
    static DeleteFile equalityDeletes(Table table, List<Record> keys, int fieldId) throws IOException {
        Schema deleteSchema = TypeUtil.select(table.schema(), Set.of(fieldId));
        EqualityDeleteWriter<Record> writer = new GenericAppenderFactory(
                        table.schema(), table.spec(), new int[] {fieldId}, deleteSchema, null)
                .newEqDeleteWriter(output(table), FileFormat.PARQUET, null);
        try (writer) {
            keys.forEach(writer::write);
        }
        return writer.toDeleteFile();
    }

    private static EncryptedOutputFile output(Table table) {
        return EncryptedFiles.plainAsEncryptedOutput(
                table.io().newOutputFile(table.location() + "/data/" + UUID.randomUUID() + ".parquet"));
    }
}
