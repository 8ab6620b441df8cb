package io.tarn.server.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.server.topic.RecordStream;
import java.io.IOException;

/**
 * The records of a request body, one at a time: a JSON array of values, or newline-delimited JSON (one value per
 * non-blank line; a line that does not parse is one unreadable record). At most {@code maxRecords} are read; one more is
 * refused with {@link ErrorCode#REQUEST_TOO_LARGE} before it is parsed.
 */
final class JsonRecords implements RecordStream {
    private final byte[] body;
    private final int maxRecords;
    private final JsonParser array;
    private int position;
    private long read;

    private JsonRecords(byte[] body, int maxRecords, JsonParser array, int position) {
        this.body = body;
        this.maxRecords = maxRecords;
        this.array = array;
        this.position = position;
    }

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for a body without records
     */
    static JsonRecords of(byte[] body, int maxRecords) {
        int start = 0;
        while (start < body.length && Character.isWhitespace(body[start])) {
            start++;
        }
        if (start == body.length) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "request body holds no records");
        }
        if (body[start] != '[') {
            return new JsonRecords(body, maxRecords, null, start);
        }
        try {
            JsonParser parser = Request.JSON.getFactory().createParser(body);
            parser.nextToken(); // START_ARRAY
            return new JsonRecords(body, maxRecords, parser, start);
        } catch (IOException e) {
            throw notAnArray(e);
        }
    }

    @Override
    public JsonNode next() {
        return array != null ? nextOfArray() : nextLine();
    }

    private JsonNode nextOfArray() {
        try {
            JsonToken token = array.nextToken();
            if (token == JsonToken.END_ARRAY) {
                if (array.nextToken() != null) {
                    throw new TarnException(ErrorCode.INVALID_REQUEST, "request body holds more than one JSON array");
                }
                return null;
            }
            if (token == null) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST, "request body is not a valid JSON array: it ends early");
            }
            count();
            return Request.JSON.readTree(array);
        } catch (IOException e) {
            throw notAnArray(e);
        }
    }

    private JsonNode nextLine() {
        while (position < body.length) {
            int end = position;
            while (end < body.length && body[end] != '\n') {
                end++;
            }
            int from = position;
            position = end + 1;
            if (isBlank(from, end)) {
                continue;
            }
            count();
            try {
                return Request.JSON.readTree(body, from, end - from);
            } catch (JsonProcessingException e) {
                throw new UnreadableRecordException("not valid JSON: " + Request.firstLine(e.getOriginalMessage()));
            } catch (IOException e) {
                throw new UnreadableRecordException("not valid JSON: " + Request.firstLine(e.getMessage()));
            }
        }
        return null;
    }

    private void count() {
        if (++read > maxRecords) {
            throw new TarnException(
                    ErrorCode.REQUEST_TOO_LARGE,
                    "request holds more than %d records (http.max-records-per-request); nothing of it was written"
                            .formatted(maxRecords));
        }
    }

    private boolean isBlank(int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Character.isWhitespace(body[i])) {
                return false;
            }
        }
        return true;
    }

    private static TarnException notAnArray(IOException e) {
        String message = e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage();
        return new TarnException(
                ErrorCode.INVALID_REQUEST, "request body is not a valid JSON array: " + Request.firstLine(message));
    }
}
