package io.tarn.server.http;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;

/**
 * What a request must look like before a route sees it, whatever its token: it names this server as its host, it does
 * not come from a web page of another origin, and a body is of a type the route reads.
 *
 * <p>The host rule defeats DNS rebinding: a page of {@code evil.example} whose name is made to resolve to 127.0.0.1 still
 * sends {@code Host: evil.example}. Accepted are {@code localhost}, IP addresses (a rebinding page cannot make the
 * browser send one) and the names the operator lists ({@code http.host}, {@code http.allowed-hosts}). The origin rule
 * refuses every request a browser marks as coming from another origin ({@code Origin}, {@code Sec-Fetch-Site}); Tarn
 * sends no CORS headers, so no other origin may read an answer either. The media type rule refuses the "simple
 * requests" (e.g. {@code text/plain}) that a browser sends across origins without asking first.
 */
final class HttpGuard {
    static final String JSON = "application/json";
    static final String NDJSON = "application/x-ndjson";

    private final String scheme;
    private final IntSupplier port;
    private final Set<String> names;

    /**
     * @param scheme {@code http} or {@code https}
     * @param port the port the server listens on (known once it listens)
     * @param names host names besides {@code localhost} and IP addresses that clients may use
     */
    HttpGuard(String scheme, IntSupplier port, Set<String> names) {
        this.scheme = requireNonNull(scheme, "scheme is null");
        this.port = requireNonNull(port, "port is null");
        this.names = requireNonNull(names, "names is null").stream()
                .map(HttpGuard::normalize)
                .collect(Collectors.toUnmodifiableSet());
    }

    /**
     * @param host the {@code Host} header, if the request has one (HTTP/1.0 clients may omit it; browsers never do)
     * @throws TarnException {@link ErrorCode#HOST_NOT_ALLOWED} naming the host
     */
    void checkHost(Optional<String> host) {
        if (host.isEmpty()) {
            return;
        }
        String name = withoutPort(host.get().strip());
        if (!allowed(name)) {
            throw new TarnException(
                    ErrorCode.HOST_NOT_ALLOWED,
                    ("requests for host '%s' are refused: this server answers to localhost, its IP addresses and the"
                                    + " names in http.host and http.allowed-hosts")
                            .formatted(abbreviate(name)));
        }
    }

    /**
     * @throws TarnException {@link ErrorCode#ORIGIN_NOT_ALLOWED} when a browser says the request comes from a page of
     *     another origin
     */
    void checkOrigin(Optional<String> origin, Optional<String> fetchSite) {
        if (fetchSite.isPresent()) {
            String site = fetchSite.get().strip().toLowerCase(Locale.ROOT);
            if (!site.equals("same-origin") && !site.equals("none")) {
                throw crossOrigin(origin.orElse(site));
            }
        }
        if (origin.isEmpty()) {
            return;
        }
        URI uri;
        try {
            uri = new URI(origin.get().strip());
        } catch (URISyntaxException e) {
            throw crossOrigin(origin.get());
        }
        if (uri.getScheme() == null || uri.getHost() == null) {
            throw crossOrigin(origin.get()); // "null" (sandboxed frames, files) and anything unparsable
        }
        int originPort = uri.getPort() >= 0 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
        if (!uri.getScheme().equalsIgnoreCase(scheme) || originPort != port.getAsInt() || !allowed(uri.getHost())) {
            throw crossOrigin(origin.get());
        }
    }

    /**
     * @param contentType the {@code Content-Type} header, if any
     * @param accepted media types the route reads
     * @throws TarnException {@link ErrorCode#UNSUPPORTED_MEDIA_TYPE} naming the type and the accepted ones
     */
    static void checkMediaType(Optional<String> contentType, Set<String> accepted) {
        String type = contentType
                .map(t -> {
                    int parameters = t.indexOf(';');
                    return (parameters < 0 ? t : t.substring(0, parameters))
                            .strip()
                            .toLowerCase(Locale.ROOT);
                })
                .orElse("");
        if (!accepted.contains(type)) {
            throw new TarnException(
                    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "request body of type '%s' is not accepted here; send Content-Type: %s"
                            .formatted(
                                    abbreviate(type.isEmpty() ? "(none)" : type),
                                    String.join(
                                            " or ", accepted.stream().sorted().toList())));
        }
    }

    private boolean allowed(String host) {
        String name = normalize(host);
        return name.equals("localhost") || names.contains(name) || isIpAddress(name);
    }

    /** Whether a host is written as an IPv4 or a (bracketed) IPv6 address; a name is never looked up. */
    static boolean isIpAddress(String host) {
        if (host.startsWith("[") && host.endsWith("]")) {
            try {
                InetAddress.getByName(host); // a bracketed host is parsed as an IPv6 literal, never resolved
                return true;
            } catch (UnknownHostException e) {
                return false;
            }
        }
        String[] octets = host.split("\\.", -1);
        if (octets.length != 4) {
            return false;
        }
        for (String octet : octets) {
            if (octet.isEmpty() || octet.length() > 3 || !octet.chars().allMatch(Character::isDigit)) {
                return false;
            }
            if (Integer.parseInt(octet) > 255) {
                return false;
            }
        }
        return true;
    }

    private static String withoutPort(String host) {
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end < 0 ? host : host.substring(0, end + 1);
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }

    private static String normalize(String host) {
        String name = host.strip().toLowerCase(Locale.ROOT);
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    private static TarnException crossOrigin(String origin) {
        return new TarnException(
                ErrorCode.ORIGIN_NOT_ALLOWED,
                "cross-origin requests are refused (origin '%s'); call the API from a program, not from a web page of"
                                .formatted(abbreviate(origin))
                        + " another site");
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 77) + "...";
    }
}
