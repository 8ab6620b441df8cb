package io.tarn.app.launcher;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * Stops Tarn on SIGTERM or SIGINT <em>before</em> the JVM's shutdown hooks run, then exits with 128 + the signal's
 * number (143, 130).
 *
 * <p>The JVM runs its shutdown hooks all at once and in no order. Libraries register their own: Iceberg's shared
 * worker pool, on which every commit writes its manifests, is shut down by one. A stop that ran as a hook of its own
 * raced them: a pipeline's commit between the hooks starting and its job being cancelled failed with a
 * {@code RejectedExecutionException} and a stack trace in the log. Taking the signal first lets the stop cancel the
 * jobs while everything they use still works; the hooks run afterwards, on {@link System#exit}. A JVM stopped any
 * other way (an exit elsewhere) still stops Tarn from a hook.
 */
public final class OrderlyStop {
    private OrderlyStop() {}

    /** Runs {@code stop} once, on the first SIGTERM or SIGINT, or at the JVM's exit. */
    public static void install(Runnable stop) {
        AtomicBoolean started = new AtomicBoolean();
        CountDownLatch stopped = new CountDownLatch(1);
        Runnable once = () -> {
            if (started.compareAndSet(false, true)) {
                try {
                    stop.run();
                } finally {
                    stopped.countDown();
                }
            } else {
                awaitUninterruptibly(stopped);
            }
        };
        for (String name : List.of("TERM", "INT")) {
            Signal.handle(new Signal(name), signal -> {
                Thread.currentThread().setName("tarn-shutdown"); // the signal's own thread, for the log
                once.run();
                System.exit(128 + signal.getNumber());
            });
        }
        Runtime.getRuntime().addShutdownHook(new Thread(once, "tarn-shutdown"));
    }

    /**
     * Never returns: the JVM ends by a signal's {@link System#exit}, which a command's return must not race (its exit
     * code would be lost).
     */
    public static void awaitExit() throws InterruptedException {
        new CountDownLatch(1).await();
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
