package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tarn tokens}: API tokens, managed with the admin token. */
@Command(
        name = "tokens",
        mixinStandardHelpOptions = true,
        description = "Create, list and revoke API tokens and their grants (needs the admin token).",
        subcommands = {TokensCommand.Create.class, TokensCommand.ListTokens.class, TokensCommand.Revoke.class})
final class TokensCommand extends CommandGroup {
    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description =
                    "Create a token and print it; Tarn keeps only its hash, so this is the only time it is shown.")
    static final class Create extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Token name: lower-case letters, digits, '_', '.' and '-'.")
        String name;

        @Option(
                names = "--grant",
                paramLabel = "PRIVILEGE:RESOURCE",
                description = "What the token may do, repeatable: read, write or manage on topic:NAME, table:NS.NAME,"
                        + " pipeline:NAME, source:NAME, view:NAME (* is a wildcard), metrics or *; e.g."
                        + " read:table:shop.*")
        List<String> grants = new ArrayList<>();

        @Option(names = "--role", paramLabel = "ROLE", description = "A role whose grants the token has, repeatable.")
        List<String> roles = new ArrayList<>();

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("grants", grants.stream().map(TokensCommand::grant).toList());
            body.put("roles", roles);
            JsonNode created = api().post("v1/tokens", body);
            print(created.path("token").asText() + "\n");
            return 0;
        }
    }

    /** {@code read:table:shop.*} as {@code {"privilege": "read", "resource": "table:shop.*"}}. */
    static Map<String, String> grant(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new TarnCli.CliException(
                    "a grant is PRIVILEGE:RESOURCE, e.g. read:table:shop.* (got '%s')".formatted(text));
        }
        return Map.of("privilege", text.substring(0, colon), "resource", text.substring(colon + 1));
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens by name (never their text).")
    static final class ListTokens extends TarnCli.ApiCommand {
        @Override
        public Integer call() {
            JsonNode answer = api().get("v1/tokens");
            if (json) {
                printJson(answer);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode token : answer.path("tokens")) {
                rows.add(List.of(text(token.path("name")), text(token.path("createdAt"))));
            }
            print(Table.render(List.of("name", "created at"), rows));
            return 0;
        }
    }

    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            description = "Revoke a token: Tarn refuses it from now on.")
    static final class Revoke extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Token name.")
        String name;

        @Override
        public Integer call() {
            api().delete("v1/tokens/" + ApiClient.segment(name));
            print("revoked token " + name + "\n");
            return 0;
        }
    }
}
