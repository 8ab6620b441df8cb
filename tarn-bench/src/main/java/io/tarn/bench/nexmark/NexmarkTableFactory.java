package io.tarn.bench.nexmark;

import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.connector.source.SourceProvider;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;

/**
 * The {@code 'connector' = 'nexmark'} table: a bounded source of {@code events} Nexmark events generated inside the
 * job by {@link NexmarkGenerator} (split across the source's parallel readers by event number).
 */
public final class NexmarkTableFactory implements DynamicTableSourceFactory {
    static final ConfigOption<Long> EVENTS =
            ConfigOptions.key("events").longType().noDefaultValue().withDescription("Number of events to generate.");
    static final ConfigOption<Long> EVENT_RATE = ConfigOptions.key("event-rate")
            .longType()
            .defaultValue(100_000L)
            .withDescription("Events per second of event time.");

    @Override
    public String factoryIdentifier() {
        return "nexmark";
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(EVENTS);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(EVENT_RATE);
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validate();
        long events = helper.getOptions().get(EVENTS);
        long rate = helper.getOptions().get(EVENT_RATE);
        LogicalType type = context.getPhysicalRowDataType().getLogicalType();
        return new Source((RowType) type, events, rate);
    }

    private record Source(RowType type, long events, long rate) implements ScanTableSource {
        @Override
        public ChangelogMode getChangelogMode() {
            return ChangelogMode.insertOnly();
        }

        @Override
        public ScanRuntimeProvider getScanRuntimeProvider(ScanContext context) {
            return SourceProvider.of(
                    new DataGeneratorSource<>(new NexmarkGenerator(rate), events, InternalTypeInfo.of(type)));
        }

        @Override
        public DynamicTableSource copy() {
            return new Source(type, events, rate);
        }

        @Override
        public String asSummaryString() {
            return "Nexmark generator";
        }
    }
}
