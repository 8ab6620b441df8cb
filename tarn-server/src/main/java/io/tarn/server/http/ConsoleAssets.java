package io.tarn.server.http;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web console's files: Tarn's own (HTML, CSS, JavaScript in {@code io/tarn/server/console/}) and the libraries it
 * uses, from their WebJars on the class path. Only the files named here are served, by their bare names: a path cannot
 * reach anything else.
 */
final class ConsoleAssets {
    private static final String OWN = "io/tarn/server/console/";

    /** Served name to its WebJar (artifact id) and the path inside it. */
    private static final Map<String, String[]> LIBRARIES = Map.of(
            "pico.min.css", new String[] {"picocss__pico", "css/pico.min.css"},
            "uPlot.iife.min.js", new String[] {"uplot", "dist/uPlot.iife.min.js"},
            "uPlot.min.css", new String[] {"uplot", "dist/uPlot.min.css"},
            "codemirror.js", new String[] {"codemirror", "lib/codemirror.js"},
            "codemirror.css", new String[] {"codemirror", "lib/codemirror.css"},
            "codemirror-sql.js", new String[] {"codemirror", "mode/sql/sql.js"},
            "show-hint.js", new String[] {"codemirror", "addon/hint/show-hint.js"},
            "show-hint.css", new String[] {"codemirror", "addon/hint/show-hint.css"},
            "sql-hint.js", new String[] {"codemirror", "addon/hint/sql-hint.js"});

    private static final Map<String, String> OWN_FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "console.css", "text/css; charset=utf-8",
            "api.js", "text/javascript; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "pages.js", "text/javascript; charset=utf-8",
            "widgets.js", "text/javascript; charset=utf-8",
            "favicon.svg", "image/svg+xml");

    private final Map<String, Response> loaded = new ConcurrentHashMap<>();

    /**
     * @throws TarnException {@link ErrorCode#ROUTE_NOT_FOUND} for a name that is not one of the console's files
     */
    Response file(String name) {
        return loaded.computeIfAbsent(name, this::load);
    }

    private Response load(String name) {
        String[] library = LIBRARIES.get(name);
        if (library != null) {
            String path = "META-INF/resources/webjars/%s/%s/%s".formatted(library[0], version(library[0]), library[1]);
            return new Response(200, new Response.Asset(read(path), type(name)));
        }
        String type = OWN_FILES.get(name);
        if (type == null) {
            throw new TarnException(ErrorCode.ROUTE_NOT_FOUND, "the console has no file '%s'".formatted(name));
        }
        return new Response(200, new Response.Asset(read(OWN + name), type));
    }

    private static String type(String name) {
        return name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
    }

    /** A WebJar's version, from the Maven properties it carries. */
    private static String version(String artifact) {
        Properties properties = new Properties();
        try (InputStream in = stream("META-INF/maven/org.webjars.npm/%s/pom.properties".formatted(artifact))) {
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties.getProperty("version");
    }

    private static byte[] read(String path) {
        try (InputStream in = stream(path)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream stream(String path) {
        InputStream in = ConsoleAssets.class.getClassLoader().getResourceAsStream(path);
        if (in == null) {
            throw new IllegalStateException("the console's file " + path + " is missing from the class path");
        }
        return in;
    }
}
