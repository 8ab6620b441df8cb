package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Renders one thing as a readable block: a label and its value per line, the values aligned; a value of several lines
 * (SQL, a list) goes indented under its label.
 */
final class Block {
    private final List<String[]> lines = new ArrayList<>();

    /** Adds a line, unless the value is empty. */
    Block add(String label, String value) {
        if (value != null && !value.isEmpty()) {
            lines.add(new String[] {label, value});
        }
        return this;
    }

    /** Adds a label with the given lines under it, indented; nothing if there are none. */
    Block lines(String label, List<String> values) {
        if (!values.isEmpty()) {
            lines.add(new String[] {label, null});
            values.forEach(value -> lines.add(new String[] {null, value}));
        }
        return this;
    }

    String render() {
        int width = 0;
        for (String[] line : lines) {
            if (line[0] != null && line[1] != null) {
                width = Math.max(width, line[0].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] line : lines) {
            if (line[0] == null) {
                out.append("  ").append(line[1]);
            } else if (line[1] == null) {
                out.append(line[0]);
            } else {
                out.append(line[0])
                        .append(" ".repeat(width - line[0].length() + 2))
                        .append(line[1]);
            }
            out.append('\n');
        }
        return out.toString();
    }

    /**
     * Any JSON object as a block: each field a line (its name with its words apart: {@code lastError} is "last error"),
     * an object's fields as "field.sub", an array of values joined by commas, an array of objects one line each.
     */
    static String of(JsonNode node) {
        Block block = new Block();
        add(block, "", node);
        return block.render();
    }

    private static void add(Block block, String prefix, JsonNode node) {
        for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String label = prefix + words(field.getKey());
            JsonNode value = field.getValue();
            if (value.isObject()) {
                add(block, label + ".", value);
            } else if (value.isArray() && value.size() > 0 && value.get(0).isObject()) {
                List<String> items = new ArrayList<>();
                value.forEach(item -> items.add(item.toString()));
                block.lines(label, items);
            } else if (value.isArray()) {
                List<String> items = new ArrayList<>();
                value.forEach(item -> items.add(TarnCli.ApiCommand.text(item)));
                block.add(label, String.join(", ", items));
            } else {
                block.add(label, TarnCli.ApiCommand.text(value));
            }
        }
    }

    /** {@code lastCheckpoint} → "last checkpoint". */
    static String words(String camel) {
        StringBuilder out = new StringBuilder();
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c) && out.length() > 0) {
                out.append(' ').append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
