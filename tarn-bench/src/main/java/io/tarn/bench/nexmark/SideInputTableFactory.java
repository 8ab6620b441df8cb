package io.tarn.bench.nexmark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.LookupTableSource;
import org.apache.flink.table.connector.source.lookup.LookupFunctionProvider;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.LookupFunction;

/**
 * Nexmark q13's bounded side input: {@code 'connector' = 'nexmark-side-input'}, a lookup table {@code (key BIGINT,
 * value STRING)} loaded whole from a file of {@code key,value} lines when the job opens it (Flink's file system
 * connector cannot be looked up).
 */
public final class SideInputTableFactory implements DynamicTableSourceFactory {
    static final ConfigOption<String> PATH =
            ConfigOptions.key("path").stringType().noDefaultValue().withDescription("The key,value file.");

    @Override
    public String factoryIdentifier() {
        return "nexmark-side-input";
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(PATH);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of();
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validate();
        return new Source(helper.getOptions().get(PATH));
    }

    private record Source(String path) implements LookupTableSource {
        @Override
        public LookupRuntimeProvider getLookupRuntimeProvider(LookupContext context) {
            return LookupFunctionProvider.of(new Lookup(path));
        }

        @Override
        public DynamicTableSource copy() {
            return new Source(path);
        }

        @Override
        public String asSummaryString() {
            return "Nexmark side input";
        }
    }

    public static final class Lookup extends LookupFunction {
        private static final long serialVersionUID = 1L;
        private final String path;
        private transient Map<Long, List<RowData>> rows;

        public Lookup(String path) {
            this.path = path;
        }

        @Override
        public void open(FunctionContext context) {
            rows = new HashMap<>();
            try {
                for (String line : Files.readAllLines(Path.of(path))) {
                    int comma = line.indexOf(',');
                    long key = Long.parseLong(line.substring(0, comma));
                    rows.put(key, List.of(GenericRowData.of(key, StringData.fromString(line.substring(comma + 1)))));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the side input " + path, e);
            }
        }

        @Override
        public Collection<RowData> lookup(RowData keyRow) {
            return rows.getOrDefault(keyRow.getLong(0), List.of());
        }
    }
}
