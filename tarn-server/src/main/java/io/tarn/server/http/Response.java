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

    /** What writes an event stream's events until its client goes away. */
    @FunctionalInterface
    interface EventWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * A Server-Sent Events answer ({@code text/event-stream}), written on a thread of its own for as long as the client
     * listens; {@code close} runs when it ends, however it ends.
     */
    static Response events(EventWriter events, Runnable close) {
        return ok(new Streamed() {
            @Override
            public void writeTo(OutputStream out) throws IOException {
                events.writeTo(out);
            }

            @Override
            public String contentType() {
                return "text/event-stream";
            }

            @Override
            public boolean longLived() {
                return true;
            }

            @Override
            public void close() {
                close.run();
            }
        });
    }

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
