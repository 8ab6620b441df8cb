package io.tarn.cdc;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A database connection given as a URL ({@code postgresql://host:5432/db?sslmode=require} or
 * {@code mariadb://host:3306/shop}, with or without {@code jdbc:}), checked before anything connects. Only parameters
 * that cannot make the driver load code or read arbitrary files are accepted: the PostgreSQL driver instantiates
 * classes named by {@code socketFactory}, {@code sslfactory}, {@code sslhostnameverifier}, {@code sslpasswordcallback}
 * and {@code authenticationPluginClassName}, and writes files named by {@code loggerFile}; MariaDB's driver loads
 * {@code socketFactory}, {@code credentialType} plugins and local files ({@code allowLocalInfile}). Anything not on
 * the list is refused with its name, so a new driver option is never passed through by accident. Credentials are not
 * part of the URL: user and password are given separately and never echoed.
 *
 * @param kind the database: {@link #POSTGRESQL} or {@link #MARIADB}
 * @param parameters the accepted parameters, by the driver's name
 */
public record ConnectionUrl(String kind, String host, int port, String database, Map<String, String> parameters) {
    public static final String POSTGRESQL = "postgresql";
    public static final String MARIADB = "mariadb";

    /** Parameters each driver may receive: lower-case name to the driver's spelling. */
    static final Map<String, Map<String, String>> ALLOWED = Map.of(
            POSTGRESQL,
            Map.of(
                    "sslmode", "sslmode",
                    "connecttimeout", "connectTimeout",
                    "sockettimeout", "socketTimeout",
                    "logintimeout", "loginTimeout",
                    "applicationname", "ApplicationName",
                    "tcpkeepalive", "tcpKeepAlive"),
            MARIADB,
            Map.of(
                    "sslmode", "sslMode",
                    "connecttimeout", "connectTimeout",
                    "sockettimeout", "socketTimeout",
                    "tcpkeepalive", "tcpKeepAlive"));

    /** Parameters that name a class to load or a file to write, refused with a reason of their own. */
    static final Set<String> CODE_LOADING = Set.of(
            "socketfactory",
            "socketfactoryarg",
            "sslfactory",
            "sslfactoryarg",
            "sslhostnameverifier",
            "sslpasswordcallback",
            "authenticationpluginclassname",
            "loggerfile",
            "loggerlevel",
            "credentialtype",
            "allowlocalinfile",
            "tlssockettype");

    /**
     * Timeouts Tarn's own connections get unless the URL sets them, so that a database that never answers cannot hold
     * a request: PostgreSQL's are in seconds, MariaDB's in milliseconds.
     */
    static final Map<String, Map<String, String>> DEFAULT_TIMEOUTS = Map.of(
            POSTGRESQL,
            Map.of("connectTimeout", "10", "loginTimeout", "10", "socketTimeout", "60"),
            MARIADB,
            Map.of("connectTimeout", "10000", "socketTimeout", "60000"));

    public ConnectionUrl {
        parameters = Map.copyOf(parameters);
    }

    /** Properties of Tarn's own driver connections: the URL's parameters and the default timeouts it does not set. */
    Map<String, String> driverProperties() {
        Map<String, String> properties = new LinkedHashMap<>(DEFAULT_TIMEOUTS.get(kind));
        properties.putAll(parameters);
        return properties;
    }

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming what is wrong (never the URL's password)
     */
    public static ConnectionUrl parse(String url) {
        if (url == null || url.isBlank()) {
            throw invalid("the connection URL is empty");
        }
        String text = url.strip();
        if (text.startsWith("jdbc:")) {
            text = text.substring("jdbc:".length());
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw invalid("the connection URL is not a URL of the form postgresql://host:port/database");
        }
        String kind = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!ALLOWED.containsKey(kind)) {
            throw invalid("the connection URL must start with postgresql:// or mariadb:// (or jdbc:postgresql://,"
                    + " jdbc:mariadb://)");
        }
        if (uri.getRawUserInfo() != null) {
            throw invalid("the connection URL must not contain credentials: give user and password separately");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw invalid("the connection URL has no host");
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        if (path.length() <= 1 || path.indexOf('/', 1) >= 0) {
            throw invalid("the connection URL must name one database: %s://host:port/database".formatted(kind));
        }
        String database = path.substring(1);
        if (database.length() > 63 || !database.chars().allMatch(ConnectionUrl::identifierCharacter)) {
            // an encoded '?', '&' or ';' here would reach the driver as parameters past the allowed list
            throw invalid(("the database name must be 1-63 letters, digits, '_', '$' or '-' (got %d characters that"
                            + " are not all of these)")
                    .formatted(database.length()));
        }
        Map<String, String> parameters = new LinkedHashMap<>();
        if (uri.getRawQuery() != null && !uri.getRawQuery().isEmpty()) {
            for (String pair : uri.getRawQuery().split("&")) {
                int equals = pair.indexOf('=');
                String name = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
                String value = equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
                String key = name.toLowerCase(Locale.ROOT);
                if (key.equals("user") || key.equals("password")) {
                    throw invalid("the connection URL must not contain credentials: give user and password separately");
                }
                if (CODE_LOADING.contains(key)) {
                    throw invalid("connection parameter '%s' is not allowed: it makes the database driver load a class"
                                    .formatted(name)
                            + " or write a file");
                }
                Map<String, String> allowed = ALLOWED.get(kind);
                if (!allowed.containsKey(key)) {
                    throw invalid("connection parameter '%s' is not supported (allowed: %s)"
                            .formatted(name, String.join(", ", new TreeSet<>(allowed.values()))));
                }
                parameters.put(allowed.get(key), value);
            }
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : kind.equals(POSTGRESQL) ? 5432 : 3306;
        return new ConnectionUrl(kind, uri.getHost(), port, database, parameters);
    }

    private static boolean identifierCharacter(int c) {
        return c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '$' || c == '-');
    }

    /** The URL in the form {@link #parse} reads, parameters sorted by name; it never holds credentials. */
    public String text() {
        StringBuilder url = new StringBuilder(kind + "://")
                .append(host)
                .append(':')
                .append(port)
                .append('/')
                .append(database);
        char separator = '?';
        for (Map.Entry<String, String> parameter : new TreeMap<>(parameters).entrySet()) {
            url.append(separator)
                    .append(parameter.getKey())
                    .append('=')
                    .append(URLEncoder.encode(parameter.getValue(), StandardCharsets.UTF_8));
            separator = '&';
        }
        return url.toString();
    }

    private static TarnException invalid(String message) {
        return new TarnException(ErrorCode.INVALID_REQUEST, message);
    }
}
