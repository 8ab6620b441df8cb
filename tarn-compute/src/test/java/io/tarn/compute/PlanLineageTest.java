package io.tarn.compute;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.Set;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Lineage read from the plans Flink's planner compiles, down to columns. */
class PlanLineageTest {
    private TableEnvironment env;

    @BeforeEach
    void tables() {
        env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        env.executeSql("CREATE DATABASE `stream`");
        env.executeSql("CREATE TABLE `stream`.orders (id BIGINT, customer BIGINT, name STRING, amount DOUBLE)"
                + " WITH ('connector' = 'datagen')");
        env.executeSql("CREATE TABLE `stream`.customers (id BIGINT, country STRING, PRIMARY KEY (id) NOT ENFORCED)"
                + " WITH ('connector' = 'datagen')");
    }

    private PlanLineage lineage(String sink, String insert) throws Exception {
        env.executeSql("CREATE TABLE `stream`." + sink + " WITH ('connector' = 'blackhole')");
        return PlanLineage.of(
                new ObjectMapper().readTree(env.compilePlanSql(insert).asJsonString()));
    }

    @Test
    void aProjectionTakesTheColumnsItsExpressionsName() throws Exception {
        PlanLineage lineage = lineage(
                "shaped (id BIGINT, label STRING, doubled DOUBLE, fixed INT)",
                "INSERT INTO `stream`.shaped SELECT id, UPPER(name) || CAST(customer AS STRING), amount * 2, 7"
                        + " FROM `stream`.orders WHERE amount > 1");
        assertThat(lineage.reads()).containsExactly("stream.orders");
        assertThat(lineage.writes()).containsExactly("stream.shaped");
        assertThat(lineage.columns())
                .isEqualTo(Map.of(
                        "stream.shaped.id", Set.of("stream.orders.id"),
                        "stream.shaped.label", Set.of("stream.orders.name", "stream.orders.customer"),
                        "stream.shaped.doubled", Set.of("stream.orders.amount"),
                        "stream.shaped.fixed", Set.of()));
    }

    @Test
    void anAggregateTakesItsGroupingAndItsArguments() throws Exception {
        PlanLineage lineage = lineage(
                "totals (name STRING, orders BIGINT, total DOUBLE, PRIMARY KEY (name) NOT ENFORCED)",
                "INSERT INTO `stream`.totals SELECT name, COUNT(*), SUM(amount) FROM `stream`.orders GROUP BY name");
        assertThat(lineage.columns())
                .isEqualTo(Map.of(
                        "stream.totals.name", Set.of("stream.orders.name"),
                        "stream.totals.orders", Set.of(),
                        "stream.totals.total", Set.of("stream.orders.amount")));
    }

    @Test
    void aJoinTakesEachSidesColumns() throws Exception {
        PlanLineage lineage = lineage(
                "placed (id BIGINT, country STRING)",
                "INSERT INTO `stream`.placed SELECT o.id, c.country FROM `stream`.orders o"
                        + " JOIN `stream`.customers c ON o.customer = c.id");
        assertThat(lineage.reads()).containsExactlyInAnyOrder("stream.orders", "stream.customers");
        assertThat(lineage.columns())
                .isEqualTo(Map.of(
                        "stream.placed.id", Set.of("stream.orders.id"),
                        "stream.placed.country", Set.of("stream.customers.country")));
    }
}
