package io.tarn.core.pipeline;

/** Where a pipeline is in its life. Only RUNNING means data is flowing. */
public enum PipelineState {
    /** Submitted; the Flink job is not running yet. */
    STARTING,
    RUNNING,
    /** The job failed and is being restarted; see the last error. */
    RESTARTING,
    /** Paused by Tarn while storage is below its reserve; it resumes by itself once space is back. */
    PAUSED,
    /** Stopped by a user with a savepoint; {@code start} resumes from it. */
    STOPPED,
    /** The job failed for good (or restart-looped past the limit); the last error says why. */
    FAILED,
    /** All its inputs were bounded and fully processed. */
    FINISHED
}
