package io.tarn.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A progress bar on standard error, redrawn in place: what is done of a whole, the rate so far and the time left at
 * that rate. Drawn only where someone watches (a terminal, or {@code --progress always}), so scripts and logs get
 * the results alone.
 */
final class Progress {
    private static final int WIDTH = 24;
    private static final long REDRAW_NANOS = 100_000_000;

    private final PrintWriter err;
    private final String what;
    private final String unit;
    private final long total;
    private final long start = System.nanoTime();
    private long drawnAt = Long.MIN_VALUE;
    private boolean drawn;

    private Progress(PrintWriter err, String what, String unit, long total) {
        this.err = err;
        this.what = what;
        this.unit = unit;
        this.total = total;
    }

    /** A bar, or one that draws nothing when {@code shown} is false. */
    static Progress of(boolean shown, PrintWriter err, String what, String unit, long total) {
        return new Progress(shown ? err : null, what, unit, total);
    }

    /** Whether progress is shown for a {@code --progress} value: always, never, or auto (on a terminal). */
    static boolean shown(String mode) {
        return switch (mode) {
            case "always" -> true;
            case "never" -> false;
            case "auto" -> System.console() != null;
            default -> throw new TarnCli.CliException("--progress is auto, always or never, not '%s'".formatted(mode));
        };
    }

    /** Shows that {@code done} of the whole are done (at most ten times a second, and always at the end). */
    void at(long done) {
        if (err == null) {
            return;
        }
        long now = System.nanoTime();
        if (done < total && now - drawnAt < REDRAW_NANOS) {
            return;
        }
        drawnAt = now;
        drawn = true;
        err.print("\r" + line(what, unit, done, total, (now - start) / 1e9));
        err.flush();
    }

    /** Ends the bar's line. */
    void end() {
        if (err != null && drawn) {
            err.println();
            err.flush();
        }
    }

    /** One drawing: {@code writing [######------] 6,000/12,000 records  3,000/s  ETA 2 s}. */
    static String line(String what, String unit, long done, long total, double seconds) {
        int filled = total <= 0 ? WIDTH : (int) Math.min(WIDTH, done * WIDTH / total);
        double rate = seconds > 0 ? done / seconds : 0;
        String eta;
        if (done >= total) {
            eta = "done in " + duration(seconds);
        } else if (rate > 0) {
            eta = "ETA " + duration((total - done) / rate);
        } else {
            eta = "ETA –";
        }
        return String.format(
                Locale.ROOT,
                "%s [%s%s] %,d/%,d %s  %,.0f/s  %s",
                what,
                "#".repeat(filled),
                "-".repeat(WIDTH - filled),
                done,
                total,
                unit,
                rate,
                eta);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s < 60
                ? s + " s"
                : s < 3600 ? "%d min %d s".formatted(s / 60, s % 60) : "%d h %d min".formatted(s / 3600, s % 3600 / 60);
    }
}
