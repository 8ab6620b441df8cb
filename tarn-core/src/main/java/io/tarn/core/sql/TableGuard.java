package io.tarn.core.sql;

import static java.util.Objects.requireNonNull;

import java.util.function.Supplier;

/**
 * Who may read and write which tables while SQL is planned on this thread. The engines report each table as they
 * resolve it into a source or a sink (Flink's table factories, DuckDB's parsed tree), so what is checked is what the
 * engine's own planner found in the SQL, never a reading of its text. Outside {@link #checking} nothing is checked:
 * Tarn's own work (resuming pipelines, a view's internal pipeline) runs with the privileges checked when it was
 * asked for.
 */
public final class TableGuard {
    private static final ThreadLocal<Check> CURRENT = new ThreadLocal<>();

    private TableGuard() {}

    /** Decides on one table; throws to refuse. */
    @FunctionalInterface
    public interface Check {
        /**
         * @param table {@code stream.<topic>}, {@code lake.<namespace>.<table>} or {@code live.<view>}
         * @param write whether the SQL writes it (else it reads it)
         */
        void check(String table, boolean write);
    }

    /** Runs work that plans SQL, checking every table the engines resolve on this thread meanwhile. */
    public static <T> T checking(Check check, Supplier<T> work) {
        requireNonNull(check, "check is null");
        Check outer = CURRENT.get();
        CURRENT.set(check);
        try {
            return work.get();
        } finally {
            restore(outer);
        }
    }

    /** Runs work that plans SQL on Tarn's own behalf: nothing is checked, even inside {@link #checking}. */
    public static <T> T unchecked(Supplier<T> work) {
        Check outer = CURRENT.get();
        CURRENT.remove();
        try {
            return work.get();
        } finally {
            restore(outer);
        }
    }

    private static void restore(Check outer) {
        if (outer == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(outer);
        }
    }

    /** Whether tables are checked on this thread now. */
    public static boolean active() {
        return CURRENT.get() != null;
    }

    /** An engine read a table: refused if the check on this thread refuses it. */
    public static void reading(String table) {
        Check check = CURRENT.get();
        if (check != null) {
            check.check(table, false);
        }
    }

    /** An engine writes a table: refused if the check on this thread refuses it. */
    public static void writing(String table) {
        Check check = CURRENT.get();
        if (check != null) {
            check.check(table, true);
        }
    }
}
