package io.tarn.compute;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.catalog.exceptions.TableNotExistException;
import org.apache.flink.table.factories.DynamicTableFactory;

/**
 * What {@code OPTIONS} hints may change. Queries on the Flink engine take hints ({@code
 * table.dynamic-table-options.enabled}) so that a lake table can be read at a snapshot, tag or branch; pipelines take
 * none. Flink merges a hint into the table's options before the table's factory sees them, so each factory of Tarn's
 * catalogs compares the options it is given with the ones its catalog declares, and refuses every changed option it
 * does not allow: a hint must never redirect a table to other servers, topics or files.
 */
public final class OptionHints {
    private OptionHints() {}

    /**
     * The options a hint changed, once each is allowed.
     *
     * @param catalog the catalog that declares the table
     * @param allowed the options a hint may set on this catalog's tables
     * @param what what the catalog's tables are, for the message ("lake tables")
     * @return the options that differ from the declared ones
     * @throws ValidationException naming the options a hint may not change, and the ones it may
     */
    public static Map<String, String> check(
            Catalog catalog, DynamicTableFactory.Context context, Set<String> allowed, String what) {
        Map<String, String> declared;
        try {
            declared = catalog.getTable(context.getObjectIdentifier().toObjectPath())
                    .getOptions();
        } catch (TableNotExistException e) {
            throw new ValidationException(
                    "table %s does not exist"
                            .formatted(context.getObjectIdentifier().asSummaryString()),
                    e);
        }
        Map<String, String> changed = context.getCatalogTable().getOptions().entrySet().stream()
                .filter(option -> !Objects.equals(declared.get(option.getKey()), option.getValue()))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        Set<String> refused = new TreeSet<>(changed.keySet());
        refused.removeAll(allowed);
        if (!refused.isEmpty()) {
            throw new ValidationException("OPTIONS hints cannot set %s on %s%s"
                    .formatted(
                            quoted(refused),
                            what,
                            allowed.isEmpty() ? "" : "; they may set only " + quoted(new TreeSet<>(allowed))));
        }
        return changed;
    }

    private static String quoted(Set<String> keys) {
        return keys.stream().map(key -> "'" + key + "'").collect(Collectors.joining(", "));
    }
}
