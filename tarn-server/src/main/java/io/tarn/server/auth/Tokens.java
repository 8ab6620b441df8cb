package io.tarn.server.auth;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.DataDir;
import io.tarn.core.io.Directories;
import io.tarn.server.http.Authenticator;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.TokenRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's bearer tokens. A token is {@code tarn_} and 43 characters of base64url (256 random bits); Tarn keeps only
 * its SHA-256 (a token this random needs no slow hash), in the metadata store (which servers can share), and shows
 * the token itself once, when it is created.
 *
 * <p>The <em>admin token</em> lives in {@code <data-dir>/admin.token} (mode 0600), where the CLI and the demo find it.
 * It is made on the first start; the file is the truth: deleting it and restarting replaces the admin token (the old
 * one stops working) and may do everything; another token may do what its grants say ({@link Grants}).
 */
public final class Tokens implements Authenticator {
    private static final Logger LOG = LoggerFactory.getLogger(Tokens.class);

    /** The name of the token in {@link DataDir#adminToken()}. */
    public static final String ADMIN = "admin";

    private static final String PREFIX = "tarn_";
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * How old the tokens this server knows may get before a request reads them again: a token revoked on another
     * server that shares the metadata database stops working here within this time.
     */
    static final Duration REFRESH = Duration.ofSeconds(5);
    /** How often, at most, a token this server does not know makes it read the tokens again (one just created). */
    private static final Duration MISS_REFRESH = Duration.ofSeconds(1);

    private final MetadataStore metadata;
    /** The hash of this server's admin token: of its own data directory, whatever other servers' are. */
    private volatile String adminHash = "";
    /** Named tokens by hash, as the metadata store had them at {@link #readAt}. */
    private volatile Map<String, String> namesByHash = Map.of();

    private volatile long readAt;

    private Tokens(MetadataStore metadata) {
        this.metadata = metadata;
        read();
    }

    /** Reads the tokens again now (after a change made in a transaction that may have been rolled back). */
    void reread() {
        read();
    }

    /** Reads the named tokens from the metadata store, where every server that shares it keeps them. */
    private synchronized void read() {
        Map<String, String> names = new HashMap<>();
        metadata.tokens().stream().filter(t -> !t.name().equals(ADMIN)).forEach(t -> names.put(t.hash(), t.name()));
        namesByHash = Map.copyOf(names);
        readAt = System.nanoTime();
    }

    /** The name of a named token's hash, reading the tokens again when they are old or the hash is not among them. */
    private String named(String hash) {
        if (System.nanoTime() - readAt > REFRESH.toNanos()) {
            readIfReachable();
        }
        String name = namesByHash.get(hash);
        if (name == null && System.nanoTime() - readAt > MISS_REFRESH.toNanos()) {
            readIfReachable();
            name = namesByHash.get(hash);
        }
        return name;
    }

    /**
     * Reads the tokens again; while the metadata database cannot be reached, requests are checked against the tokens
     * read last (and it is tried again after {@link #MISS_REFRESH}), rather than all refused.
     */
    private void readIfReachable() {
        try {
            read();
        } catch (TarnException e) {
            readAt = System.nanoTime() - REFRESH.toNanos() + MISS_REFRESH.toNanos();
            LOG.warn("Tokens could not be read again; the ones read last are used: {}", e.getMessage());
        }
    }

    /**
     * Opens the tokens of a data dir, making the admin token (and its file) if there is none.
     *
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} if the admin token file cannot be read or written, or does
     *     not hold a token
     */
    public static Tokens open(MetadataStore metadata, DataDir dataDir) {
        Tokens tokens = new Tokens(requireNonNull(metadata, "metadata is null"));
        tokens.loadAdmin(dataDir.adminToken());
        return tokens;
    }

    /**
     * The admin token of a data dir, for programs of the same user (the launcher's tools, tests, benchmarks).
     *
     * @throws UncheckedIOException if there is none (Tarn has not run on this data dir yet) or it cannot be read
     */
    public static String readAdminToken(Path dataDir) {
        try {
            return Files.readString(new DataDir(dataDir).adminToken(), StandardCharsets.UTF_8)
                    .strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void loadAdmin(Path file) {
        try {
            String token;
            if (Files.exists(file)) {
                if (Directories.isSharedWithOthers(file)) {
                    LOG.warn("{} was readable by other users; it is now readable by its owner only", file);
                    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                }
                token = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (!wellFormed(token)) {
                    throw new TarnException(
                            ErrorCode.INVALID_CONFIG,
                            "%s does not hold a Tarn token; delete it and restart to make a new admin token"
                                    .formatted(file));
                }
            } else {
                token = newToken();
                Directories.writeOwnerOnly(file, token + "\n");
                LOG.info("New admin token written to {} (readable by its owner only)", file);
            }
            String hash = hash(token);
            adminHash = hash;
            boolean known = metadata.tokens().stream()
                    .anyMatch(t -> t.name().equals(ADMIN) && t.hash().equals(hash));
            if (!known) { // listed as a token; checked against this data directory's file only
                metadata.putToken(new TokenRecord(ADMIN, hash, System.currentTimeMillis()));
            }
        } catch (IOException | UncheckedIOException e) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "admin token file %s cannot be used: %s".formatted(file, TarnException.rootMessage(e)),
                    e);
        }
    }

    @Override
    public String authenticate(Optional<String> authorization) {
        if (authorization.isEmpty()) {
            throw new TarnException(
                    ErrorCode.UNAUTHENTICATED,
                    "this endpoint needs a token: send the header 'Authorization: Bearer <token>' (the admin token is"
                            + " in admin.token of Tarn's data directory)");
        }
        String value = authorization.get().strip();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).equalsIgnoreCase("Bearer")) {
            throw new TarnException(
                    ErrorCode.UNAUTHENTICATED, "the Authorization header must be of the form 'Bearer <token>'");
        }
        String hash = hash(value.substring(space + 1).strip());
        String name = hash.equals(adminHash) ? ADMIN : named(hash);
        if (name == null) {
            throw new TarnException(ErrorCode.UNAUTHENTICATED, "the token is not valid (mistyped or revoked)");
        }
        return name;
    }

    /**
     * Creates a token; its text is in the answer and nowhere else.
     *
     * @throws TarnException {@link ErrorCode#INVALID_NAME}; {@link ErrorCode#TOKEN_ALREADY_EXISTS}
     */
    public synchronized Issued create(String name) {
        requireValidName(name, "token");
        if (metadata.tokens().stream().anyMatch(t -> t.name().equals(name))) {
            throw new TarnException(ErrorCode.TOKEN_ALREADY_EXISTS, "token '%s' already exists".formatted(name));
        }
        String token = newToken();
        TokenRecord record = new TokenRecord(name, hash(token), System.currentTimeMillis());
        metadata.putToken(record);
        read();
        LOG.info("Token {} created", name);
        return new Issued(name, token, Instant.ofEpochMilli(record.createdAt()));
    }

    public List<Info> list() {
        return metadata.tokens().stream()
                .map(t -> new Info(t.name(), Instant.ofEpochMilli(t.createdAt())))
                .toList();
    }

    /**
     * Revokes a token: requests with it are refused from now on, and its grants and roles are gone.
     *
     * @throws TarnException {@link ErrorCode#NOT_PERMITTED} for the admin token; {@link ErrorCode#TOKEN_NOT_FOUND}
     */
    public synchronized void revoke(String name) {
        if (name.equals(ADMIN)) {
            throw new TarnException(
                    ErrorCode.NOT_PERMITTED,
                    "the admin token cannot be revoked; to replace it, delete admin.token in Tarn's data directory and"
                            + " restart Tarn");
        }
        metadata.transaction(() -> {
            if (!metadata.deleteToken(name)) {
                throw new TarnException(ErrorCode.TOKEN_NOT_FOUND, "token '%s' does not exist".formatted(name));
            }
            metadata.deletePrincipal(name);
        });
        read();
        LOG.info("Token {} revoked", name);
    }

    /** Names of tokens (principals) and roles. */
    static void requireValidName(String name, String what) {
        if (name == null || !name.matches("[a-z0-9][a-z0-9_.-]{0,62}")) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    "%s name '%s' must be 1-63 characters of lower-case letters, digits, '_', '.' and '-', starting"
                                    .formatted(what, name)
                            + " with a letter or digit");
        }
    }

    private static String newToken() {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    private static boolean wellFormed(String token) {
        return token.startsWith(PREFIX)
                && token.length() == PREFIX.length() + 43
                && token.substring(PREFIX.length())
                        .chars()
                        .allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '_');
    }

    static String hash(String token) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).toLowerCase(Locale.ROOT);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** A token just created: the only moment its text is known. */
    public record Issued(String name, String token, Instant createdAt) {
        @Override
        public String toString() {
            return "Issued[name=" + name + "]";
        }
    }

    /** A token as listed: its name and when it was made, never its text or hash. */
    public record Info(String name, Instant createdAt) {}
}
