package io.tarn.core.view;

import java.util.Optional;

/**
 * The names of what a live view is made of: its topic {@code <view>.view}, its pipeline {@code <view>-view} and its
 * history table {@code views.<view>}.
 */
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

    /** The lake table ({@code namespace.table}) that keeps a view's rows when it is created with history. */
    public static String historyTable(String view) {
        return "views." + view;
    }

    /** The view whose topic this is named as, if it is named as one. */
    public static Optional<String> ofTopic(String topic) {
        return topic.endsWith(TOPIC_SUFFIX)
                ? Optional.of(topic.substring(0, topic.length() - TOPIC_SUFFIX.length()))
                : Optional.empty();
    }
}
