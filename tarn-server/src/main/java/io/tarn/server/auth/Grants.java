package io.tarn.server.auth;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.server.http.Authorizer;
import io.tarn.server.metadata.GrantRecord;
import io.tarn.server.metadata.MetadataStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may do what: grants of a {@link Privilege} on resource patterns to principals (tokens, by name) and to roles,
 * and principals' roles, kept in the metadata store (which servers can share). The admin token may do everything; any
 * other token only what its grants and its roles' grants give. Read again from the store at most {@link #REFRESH} after
 * the last read, so that a grant revoked on another server that shares the store stops counting here within that time.
 */
public final class Grants implements Authorizer {
    private static final Logger LOG = LoggerFactory.getLogger(Grants.class);

    static final Duration REFRESH = Duration.ofSeconds(5);

    public static final String PRINCIPAL = "principal";
    public static final String ROLE = "role";

    private final MetadataStore metadata;
    /** Each principal's grants and its roles' grants, as the store had them at {@link #readAt}. */
    private volatile Map<String, List<Grant>> byPrincipal = Map.of();

    private volatile long readAt;
    /** The embedded broker's users and ACLs, when it has a SASL listener. */
    private volatile Optional<KafkaAcls> kafka = Optional.empty();

    public Grants(MetadataStore metadata) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        read();
    }

    /**
     * Keeps the embedded broker's SCRAM users and ACLs in step with tokens and grants from now on ({@code log.sasl-port})
     * and makes them so now.
     */
    public void onKafka(KafkaAcls acls) {
        kafka = Optional.of(acls);
        syncKafka();
    }

    /** Makes the broker's ACLs those of the grants now (every 30 s, in case a change could not reach the broker). */
    public void syncKafka() {
        kafka.ifPresent(acls -> {
            read();
            acls.sync(byPrincipal);
        });
    }

    /** After a change of grants here: decides by them from now on, and brings the broker's ACLs in step. */
    private void changed() {
        read();
        kafka.ifPresent(acls -> {
            try {
                acls.sync(byPrincipal);
            } catch (TarnException e) {
                LOG.warn(
                        "Kafka's ACLs are not in step with the grants yet (tried again within 30 s): {}",
                        e.getMessage());
            }
        });
    }

    /** A token was revoked: its Kafka user goes with it. */
    public void revoked(String principal) {
        kafka.ifPresent(acls -> acls.forget(principal));
        changed();
    }

    private synchronized void read() {
        Map<String, List<Grant>> direct = new HashMap<>();
        Map<String, List<Grant>> ofRoles = new HashMap<>();
        for (GrantRecord record : metadata.grants()) {
            Grant grant = new Grant(Privilege.parse(record.privilege()), record.resource());
            (record.granteeKind().equals(ROLE) ? ofRoles : direct)
                    .computeIfAbsent(record.grantee(), g -> new ArrayList<>())
                    .add(grant);
        }
        Map<String, List<Grant>> all = new HashMap<>();
        direct.forEach((principal, grants) -> all.put(principal, new ArrayList<>(grants)));
        metadata.roleMembers()
                .forEach((principal, roles) ->
                        roles.forEach(role -> all.computeIfAbsent(principal, p -> new ArrayList<>())
                                .addAll(ofRoles.getOrDefault(role, List.of()))));
        all.replaceAll((principal, grants) -> List.copyOf(grants));
        byPrincipal = Map.copyOf(all);
        readAt = System.nanoTime();
    }

    private List<Grant> grantsOf(String principal) {
        if (System.nanoTime() - readAt > REFRESH.toNanos()) {
            try {
                read();
            } catch (TarnException e) { // the database away: decide by the grants read last, and try again later
                readAt = System.nanoTime();
                LOG.warn("Grants could not be read again; the ones read last are used: {}", e.getMessage());
            }
        }
        return byPrincipal.getOrDefault(principal, List.of());
    }

    /** Whether a principal may do what the permission says. */
    @Override
    public boolean allows(String principal, Permission permission) {
        return principal.equals(Tokens.ADMIN) || grantsOf(principal).stream().anyMatch(g -> g.gives(permission));
    }

    /** A grant to a principal or a role. */
    public record Entry(String granteeKind, String grantee, Grant grant) {}

    /** Every grant, and every principal's roles. */
    public record Listing(List<Entry> grants, Map<String, List<String>> roles) {}

    public Listing list() {
        List<Entry> entries = metadata.grants().stream()
                .map(r -> new Entry(
                        r.granteeKind(), r.grantee(), new Grant(Privilege.parse(r.privilege()), r.resource())))
                .toList();
        return new Listing(entries, metadata.roleMembers());
    }

    /**
     * Grants a privilege to a principal (an existing token) or a role.
     *
     * @throws TarnException {@link ErrorCode#TOKEN_NOT_FOUND} for a principal with no token;
     *     {@link ErrorCode#INVALID_REQUEST} for the admin token (it has every privilege) or a bad role name
     */
    public void grant(String granteeKind, String grantee, Grant grant) {
        requireGrantee(granteeKind, grantee);
        metadata.putGrant(record(granteeKind, grantee, grant));
        changed();
        LOG.info("Granted {} on {} to {} {}", grant.privilege().text(), grant.resource(), granteeKind, grantee);
    }

    /**
     * @throws TarnException {@link ErrorCode#GRANT_NOT_FOUND} when there is no such grant
     */
    public void revoke(String granteeKind, String grantee, Grant grant) {
        if (!metadata.deleteGrant(record(granteeKind, grantee, grant))) {
            throw new TarnException(
                    ErrorCode.GRANT_NOT_FOUND,
                    "%s '%s' has no grant of %s on %s"
                            .formatted(granteeKind, grantee, grant.privilege().text(), grant.resource()));
        }
        changed();
        LOG.info("Revoked {} on {} from {} {}", grant.privilege().text(), grant.resource(), granteeKind, grantee);
    }

    /**
     * Makes a principal (an existing token) a member of a role.
     *
     * @throws TarnException as {@link #grant}
     */
    public void addMember(String principal, String role) {
        requireGrantee(PRINCIPAL, principal);
        requireGrantee(ROLE, role);
        metadata.putRoleMember(principal, role);
        changed();
        LOG.info("Principal {} is a member of role {}", principal, role);
    }

    /**
     * @throws TarnException {@link ErrorCode#GRANT_NOT_FOUND} when the principal is not a member
     */
    public void removeMember(String principal, String role) {
        if (!metadata.deleteRoleMember(principal, role)) {
            throw new TarnException(
                    ErrorCode.GRANT_NOT_FOUND,
                    "principal '%s' is not a member of role '%s'".formatted(principal, role));
        }
        changed();
        LOG.info("Principal {} is no longer a member of role {}", principal, role);
    }

    /**
     * Creates a token with its grants and roles, all or nothing.
     *
     * @throws TarnException as {@link Tokens#create} and {@link #grant}
     */
    public Tokens.Issued issue(Tokens tokens, String name, List<Grant> grants, List<String> roles) {
        roles.forEach(role -> Tokens.requireValidName(role, ROLE));
        Tokens.Issued[] issued = new Tokens.Issued[1];
        try {
            metadata.transaction(() -> {
                issued[0] = tokens.create(name);
                grants.forEach(grant -> metadata.putGrant(record(PRINCIPAL, name, grant)));
                roles.forEach(role -> metadata.putRoleMember(name, role));
            });
        } finally {
            tokens.reread(); // Tokens.create read its tokens inside a transaction that may have been rolled back
        }
        kafka.ifPresent(acls -> {
            try {
                acls.credential(name, issued[0].token());
            } catch (TarnException e) { // the token is made and answered; only its Kafka user is missing
                LOG.warn("Token {} has no Kafka user (make the token again for one): {}", name, e.getMessage());
            }
        });
        changed();
        grants.forEach(grant ->
                LOG.info("Granted {} on {} to principal {}", grant.privilege().text(), grant.resource(), name));
        roles.forEach(role -> LOG.info("Principal {} is a member of role {}", name, role));
        return issued[0];
    }

    private void requireGrantee(String granteeKind, String grantee) {
        if (!Set.of(PRINCIPAL, ROLE).contains(granteeKind)) {
            throw new IllegalArgumentException("grantee kind " + granteeKind);
        }
        Tokens.requireValidName(grantee, granteeKind);
        if (granteeKind.equals(PRINCIPAL)) {
            if (grantee.equals(Tokens.ADMIN)) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST, "the admin token has every privilege: it needs no grant");
            }
            if (metadata.tokens().stream().noneMatch(t -> t.name().equals(grantee))) {
                throw new TarnException(
                        ErrorCode.TOKEN_NOT_FOUND,
                        "principal '%s' has no token; create it first (POST /v1/tokens)".formatted(grantee));
            }
        }
    }

    private static GrantRecord record(String granteeKind, String grantee, Grant grant) {
        return new GrantRecord(granteeKind, grantee, grant.privilege().text(), grant.resource());
    }
}
