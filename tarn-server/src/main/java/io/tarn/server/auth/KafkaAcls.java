package io.tarn.server.auth;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tokens' grants on the Kafka protocol (the embedded broker's SASL/SCRAM listener, {@code log.sasl-port}): each token
 * is a SCRAM user (its name; its password the token itself, set when the token is made — Tarn keeps only hashes, so a
 * token made before has no SCRAM credential), and each principal's grants on topics, with its roles', become the ACLs
 * of {@code User:<name>}:
 *
 * <ul>
 *   <li>{@code read} on a topic: READ and DESCRIBE on it, and READ on consumer groups named {@code <name>.…};
 *   <li>{@code write}: also WRITE (an idempotent producer needs nothing more);
 *   <li>{@code manage}: also DESCRIBE_CONFIGS (topics are made, changed and deleted through Tarn's API);
 *   <li>{@code *}: the same on every topic and group.
 * </ul>
 *
 * <p>A topic pattern becomes a literal name, {@code *}, or a prefix ({@code orders*}); a pattern Kafka cannot express
 * ({@code a*b}) gets no ACL rather than a broader one, with a warning. Tarn owns the embedded broker's ACLs: a sync
 * makes them exactly what the grants say.
 */
public final class KafkaAcls implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaAcls.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int ITERATIONS = 8192;
    private static final List<ScramMechanism> MECHANISMS =
            List.of(ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512);

    private final Admin admin;

    public KafkaAcls(String bootstrapServers) {
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /** Makes a token a SCRAM user of the broker, its password the token. */
    public void credential(String principal, String token) {
        for (ScramMechanism mechanism : MECHANISMS) { // one alteration of a user per request, as the broker requires
            List<UserScramCredentialAlteration> upsert = List.of(
                    new UserScramCredentialUpsertion(principal, new ScramCredentialInfo(mechanism, ITERATIONS), token));
            await(admin.alterUserScramCredentials(upsert).all(), "set the SCRAM credentials of " + principal);
        }
    }

    /** Forgets a token's SCRAM credentials (its ACLs go at the next {@link #sync}). */
    public void forget(String principal) {
        for (ScramMechanism mechanism : MECHANISMS) {
            List<UserScramCredentialAlteration> deletion =
                    List.of(new UserScramCredentialDeletion(principal, mechanism));
            try {
                admin.alterUserScramCredentials(deletion).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof ResourceNotFoundException)) {
                    LOG.warn(
                            "A SCRAM credential of {} could not be deleted: {}",
                            principal,
                            e.getCause().getMessage());
                }
            } catch (InterruptedException | TimeoutException e) {
                LOG.warn("A SCRAM credential of {} could not be deleted: {}", principal, e.toString());
            }
        }
    }

    /**
     * Makes the broker's ACLs exactly those of the grants.
     *
     * @param grants each principal's grants, its roles' included
     */
    public void sync(Map<String, List<Grant>> grants) {
        Set<AclBinding> wanted = new HashSet<>();
        grants.forEach((principal, list) -> list.forEach(grant -> wanted.addAll(bindings(principal, grant))));
        Set<AclBinding> present =
                new HashSet<>(await(admin.describeAcls(AclBindingFilter.ANY).values(), "list ACLs"));
        List<AclBinding> add = wanted.stream().filter(b -> !present.contains(b)).toList();
        List<AclBindingFilter> remove = present.stream()
                .filter(b -> !wanted.contains(b))
                .map(AclBinding::toFilter)
                .toList();
        if (!add.isEmpty()) {
            await(admin.createAcls(add).all(), "create ACLs");
        }
        if (!remove.isEmpty()) {
            await(admin.deleteAcls(remove).all(), "delete ACLs");
        }
        if (!add.isEmpty() || !remove.isEmpty()) {
            LOG.info("Kafka ACLs in step with the grants: {} added, {} removed", add.size(), remove.size());
        }
    }

    /** The ACLs a grant gives a principal; none for a grant on something other than topics. */
    static List<AclBinding> bindings(String principal, Grant grant) {
        Optional<ResourcePattern> topics = topics(grant.resource());
        if (topics.isEmpty()) {
            return List.of();
        }
        List<AclOperation> operations = new ArrayList<>(List.of(AclOperation.READ, AclOperation.DESCRIBE));
        if (grant.privilege().implies(Privilege.WRITE)) {
            operations.add(AclOperation.WRITE);
        }
        if (grant.privilege().implies(Privilege.MANAGE)) {
            operations.add(AclOperation.DESCRIBE_CONFIGS);
        }
        String user = "User:" + principal;
        List<AclBinding> bindings = new ArrayList<>();
        for (AclOperation operation : operations) {
            bindings.add(new AclBinding(
                    topics.get(), new AccessControlEntry(user, "*", operation, AclPermissionType.ALLOW)));
        }
        ResourcePattern groups = grant.resource().equals(Grant.EVERYTHING)
                ? new ResourcePattern(ResourceType.GROUP, "*", PatternType.LITERAL)
                : new ResourcePattern(ResourceType.GROUP, principal + ".", PatternType.PREFIXED);
        bindings.add(
                new AclBinding(groups, new AccessControlEntry(user, "*", AclOperation.READ, AclPermissionType.ALLOW)));
        return bindings;
    }

    /** The topics a grant's resource names, as Kafka can name them. */
    private static Optional<ResourcePattern> topics(String resource) {
        if (resource.equals(Grant.EVERYTHING)) {
            return Optional.of(new ResourcePattern(ResourceType.TOPIC, "*", PatternType.LITERAL));
        }
        if (!resource.startsWith("topic:")) {
            return Optional.empty();
        }
        String name = resource.substring("topic:".length());
        int star = name.indexOf('*');
        if (star < 0) {
            return Optional.of(new ResourcePattern(ResourceType.TOPIC, name, PatternType.LITERAL));
        }
        if (name.equals("*")) {
            return Optional.of(new ResourcePattern(ResourceType.TOPIC, "*", PatternType.LITERAL));
        }
        if (star == name.length() - 1) {
            return Optional.of(new ResourcePattern(ResourceType.TOPIC, name.substring(0, star), PatternType.PREFIXED));
        }
        LOG.warn(
                "The grant on {} has no Kafka ACL: Kafka names topics literally or by a prefix, and a broader ACL would"
                        + " allow more than the grant",
                resource);
        return Optional.empty();
    }

    private static <T> T await(KafkaFuture<T> future, String what) {
        try {
            return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new TarnException(
                    ErrorCode.LOG_UNAVAILABLE,
                    "the Kafka broker did not %s: %s".formatted(what, TarnException.rootMessage(e)),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TarnException(ErrorCode.LOG_UNAVAILABLE, "interrupted while asking the broker to " + what, e);
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }
}
