package io.tarn.server.topic;

import static java.util.Objects.requireNonNull;

import io.tarn.core.audit.AuditNames;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.TopicSpec;
import io.tarn.server.pipeline.PipelineService;
import io.tarn.server.source.SourceService;
import java.util.List;

/**
 * Deleting a topic that pipelines or sources use. A source's change topic is refused always (delete the source first);
 * a topic that pipelines read or write is refused unless forced, and a forced delete fails those pipelines first, so
 * that none is left retrying a topic that is gone.
 */
public final class TopicDeletion {
    private final TopicService topics;
    private final PipelineService pipelines;
    private final SourceService sources;
    private final TopicTails tails;

    public TopicDeletion(TopicService topics, PipelineService pipelines, SourceService sources, TopicTails tails) {
        this.topics = requireNonNull(topics, "topics is null");
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
        this.sources = requireNonNull(sources, "sources is null");
        this.tails = requireNonNull(tails, "tails is null");
    }

    /**
     * @param force delete it even when pipelines use it (they fail)
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND}; {@link ErrorCode#TOPIC_IN_USE} naming its users
     */
    public void delete(String name, boolean force) {
        TopicSpec.requireValidName(name);
        if (name.equals(AuditNames.TOPIC)) {
            throw AuditNames.refused("topic '%s' is kept".formatted(name));
        }
        if (topics.describe(name).spec().format() == TopicSpec.Format.UPSERT_JSON) {
            throw new TarnException(
                    ErrorCode.TOPIC_IN_USE,
                    "topic '%s' holds the rows of a view; delete the view (which deletes its topic)".formatted(name));
        }
        List<String> capturing = sources.capturingInto(name);
        if (!capturing.isEmpty()) {
            throw new TarnException(
                    ErrorCode.TOPIC_IN_USE,
                    "topic '%s' holds the changes source '%s' captures; delete the source first (its topics stay)"
                            .formatted(name, capturing.get(0)));
        }
        List<String> users = pipelines.usersOf("stream." + name);
        if (!users.isEmpty() && !force) {
            throw new TarnException(
                    ErrorCode.TOPIC_IN_USE,
                    ("topic '%s' is used by pipeline %s; delete or change the pipelines first, or delete the topic with"
                                    + " force=true (they then fail)")
                            .formatted(name, quoted(users)));
        }
        pipelines.fail(users, "its topic '%s' was deleted".formatted(name));
        tails.deleted(name);
        topics.delete(name);
    }

    static String quoted(List<String> names) {
        return String.join(", ", names.stream().map(n -> "'" + n + "'").toList());
    }
}
