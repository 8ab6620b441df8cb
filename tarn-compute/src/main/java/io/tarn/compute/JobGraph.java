package io.tarn.compute;

import java.util.List;

/**
 * A running job's graph as Flink reports it: its tasks (chains of operators) and the connections between them, each
 * task with its counters and, per second over Flink's last minute, its throughput, back-pressure and busyness.
 *
 * @param vertices in the order of Flink's plan: sources first
 * @param edges from the task that sends to the task that receives
 */
public record JobGraph(List<Vertex> vertices, List<Edge> edges) {
    public JobGraph {
        vertices = List.copyOf(vertices);
        edges = List.copyOf(edges);
    }

    /**
     * One task.
     *
     * @param recordsIn records it received (a source: read from outside), summed over its subtasks
     * @param recordsOut records it sent on to other tasks
     * @param backPressured the share of time (0…1) its most back-pressured subtask waited for the tasks it sends to
     * @param busy the share of time (0…1) its busiest subtask was working
     */
    public record Vertex(
            String id,
            String name,
            int parallelism,
            String state,
            long recordsIn,
            long recordsOut,
            double recordsInPerSecond,
            double recordsOutPerSecond,
            double backPressured,
            double busy) {

        /** Flink's words for back-pressure: {@code ok} up to 10 %, {@code low} up to 50 %, then {@code high}. */
        public String backPressureLevel() {
            return backPressured > 0.5 ? "high" : backPressured > 0.1 ? "low" : "ok";
        }
    }

    /** A connection: {@code shipStrategy} is how records are distributed (FORWARD, HASH, REBALANCE, …). */
    public record Edge(String from, String to, String shipStrategy) {}
}
