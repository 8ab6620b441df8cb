package io.tarn.server.http;

import java.io.IOException;
import java.io.OutputStream;

/** A JSON answer and its HTTP status; its body is a value to encode, raw bytes, or {@link Streamed}. */
record Response(int status, Object body) {
    static Response ok(Object body) {
        return new Response(200, body);
    }

    static Response created(Object body) {
        return new Response(201, body);
    }

    static Response noContent() {
        return new Response(204, null);
    }

    /** A file of the web console: its bytes and media type. */
    record Asset(byte[] bytes, String contentType) {}

    /**
     * A JSON body written as it is produced (chunked), not held whole: once its first bytes are sent its status
     * cannot change, so what can fail must fail before the response is made. It is closed in every case, written or
     * not.
     */
    interface Streamed extends AutoCloseable {
        void writeTo(OutputStream out) throws IOException;

        default String contentType() {
            return "application/json";
        }

        /** Whether it is written for as long as the client listens (an event stream), on a thread of its own. */
        default boolean longLived() {
            return false;
        }

        @Override
        void close();
    }
}
