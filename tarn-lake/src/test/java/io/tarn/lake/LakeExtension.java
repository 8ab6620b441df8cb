package io.tarn.lake;

import io.tarn.core.io.Directories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.iceberg.catalog.Namespace;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A lake for one test class: a catalog over a warehouse in a directory of its own, with namespaces made, and the fast
 * query path over it (256 MiB per query); all closed and deleted after the class.
 */
final class LakeExtension implements BeforeAllCallback, AfterAllCallback {
    private final List<String> namespaces;
    private Path dir;
    private LakeCatalog catalog;
    private LakeQuery query;

    LakeExtension(String... namespaces) {
        this.namespaces = List.of(namespaces);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("tarn-lake-test");
        String warehouse = dir.resolve("warehouse").toString();
        catalog = LakeCatalog.open(dir.resolve("catalog.db"), warehouse);
        query = new LakeQuery(catalog, warehouse, 256L << 20, dir.resolve("spill"));
        namespaces.forEach(namespace -> catalog.icebergCatalog().createNamespace(Namespace.of(namespace)));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        query.close();
        catalog.close();
        Directories.deleteRecursively(dir);
    }

    /** The directory the lake is in; tests may use it for more. */
    Path dir() {
        return dir;
    }

    LakeCatalog catalog() {
        return catalog;
    }

    LakeQuery query() {
        return query;
    }
}
