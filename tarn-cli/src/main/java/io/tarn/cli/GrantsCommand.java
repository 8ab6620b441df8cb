package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tarn grants}: who may do what, managed with the admin token. */
@Command(
        name = "grants",
        mixinStandardHelpOptions = true,
        description = "List, add and revoke grants of principals (tokens) and roles (needs the admin token).",
        subcommands = {GrantsCommand.ListGrants.class, GrantsCommand.Add.class, GrantsCommand.Revoke.class})
final class GrantsCommand extends CommandGroup {
    @Command(name = "list", mixinStandardHelpOptions = true, description = "List every grant and every role member.")
    static final class ListGrants extends TarnCli.ApiCommand {
        @Override
        public Integer call() {
            JsonNode listing = api().get("v1/grants");
            if (json) {
                printJson(listing);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode grant : listing.path("grants")) {
                boolean principal = grant.has("principal");
                rows.add(List.of(
                        principal ? "principal" : "role",
                        text(grant.path(principal ? "principal" : "role")),
                        text(grant.path("privilege")),
                        text(grant.path("resource"))));
            }
            listing.path("roles").properties().forEach(member -> member.getValue()
                    .forEach(role -> rows.add(List.of("principal", member.getKey(), "member of", role.asText()))));
            print(Table.render(List.of("grantee", "name", "privilege", "resource"), rows));
            return 0;
        }
    }

    /** A principal or a role, and what it gets: a privilege on resources, or (a principal) a role. */
    static final class Change {
        @ArgGroup(multiplicity = "1")
        Grantee grantee;

        @Parameters(
                index = "0",
                arity = "0..1",
                paramLabel = "PRIVILEGE:RESOURCE",
                description = "read, write or manage on topic:NAME, table:NS.NAME, pipeline:NAME, source:NAME,"
                        + " view:NAME (* is a wildcard), metrics or *; e.g. read:table:shop.*")
        String grant;

        @Option(names = "--member-of", paramLabel = "ROLE", description = "With --principal: the role it joins.")
        String memberOf;

        Map<String, Object> body() {
            Map<String, Object> body = new LinkedHashMap<>();
            if (grantee.principal != null) {
                body.put("principal", grantee.principal);
            }
            if (grantee.role != null) {
                body.put("role", grantee.role);
            }
            if (memberOf != null) {
                if (grant != null || grantee.principal == null) {
                    throw new TarnCli.CliException("--member-of goes with --principal and no PRIVILEGE:RESOURCE");
                }
                body.put("role", memberOf);
                return body;
            }
            if (grant == null) {
                throw new TarnCli.CliException("give PRIVILEGE:RESOURCE (e.g. read:table:shop.*) or --member-of");
            }
            body.putAll(TokensCommand.grant(grant));
            return body;
        }
    }

    static final class Grantee {
        @Option(names = "--principal", paramLabel = "TOKEN", description = "The token (by name) that gets it.")
        String principal;

        @Option(names = "--role", paramLabel = "ROLE", description = "The role that gets it.")
        String role;
    }

    @Command(
            name = "add",
            mixinStandardHelpOptions = true,
            description = "Grant a privilege to a principal or a role, or make a principal a member of a role.")
    static final class Add extends TarnCli.ApiCommand {
        @ArgGroup(exclusive = false, multiplicity = "1")
        Change change;

        @Override
        public Integer call() {
            api().post("v1/grants", change.body());
            print("granted\n");
            return 0;
        }
    }

    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            description = "Revoke a privilege of a principal or a role, or a principal's membership of a role.")
    static final class Revoke extends TarnCli.ApiCommand {
        @ArgGroup(exclusive = false, multiplicity = "1")
        Change change;

        @Override
        public Integer call() {
            api().post("v1/grants/revoke", change.body());
            print("revoked\n");
            return 0;
        }
    }
}
