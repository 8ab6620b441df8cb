package io.tarn.server.http;

/** A JSON answer and its HTTP status. */
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
}
