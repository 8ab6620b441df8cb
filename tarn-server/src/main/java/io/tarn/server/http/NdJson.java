package io.tarn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.tarn.server.topic.InvalidRecordsException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Newline-delimited JSON: one value per non-blank line; a line that does not parse is reported by its index. */
final class NdJson {
    private NdJson() {}

    static List<JsonNode> parse(byte[] body) {
        List<JsonNode> records = new ArrayList<>();
        List<InvalidRecordsException.Problem> problems = new ArrayList<>();
        String text = new String(body, StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                records.add(Request.JSON.readTree(line));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                problems.add(new InvalidRecordsException.Problem(
                        records.size(), "not valid JSON: " + Request.firstLine(e.getOriginalMessage())));
                records.add(TextNode.valueOf(line));
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidRecordsException(records.size(), problems);
        }
        return records;
    }
}
