package io.tarn.core.view;

import java.util.Optional;

/** The names of what a live view is made of: its topic {@code <view>.view} and its pipeline {@code <view>-view}. */
public final class ViewNames {
    private static final String TOPIC_SUFFIX = ".view";

    private ViewNames() {}

    /** The compacted topic a view's rows go to. */
    public static String topic(String view) {
        return view + TOPIC_SUFFIX;
    }

    /** The pipeline that runs a view's query. */
    public static String pipeline(String view) {
        return view + "-view";
    }

    /** The view whose topic this is named as, if it is named as one. */
    public static Optional<String> ofTopic(String topic) {
        return topic.endsWith(TOPIC_SUFFIX)
                ? Optional.of(topic.substring(0, topic.length() - TOPIC_SUFFIX.length()))
                : Optional.empty();
    }
}
