package io.tarn.core.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Renders the configuration reference (docs/configuration.md) from {@link ConfigKeys}; a test keeps them equal. */
public final class ConfigReference {
    private ConfigReference() {}

    public static String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("# Configuration reference\n\n")
                .append("<!-- Generated from ConfigKeys by ConfigReference; do not edit by hand. -->\n\n")
                .append("Tarn reads `tarn.yaml` (given with `--config`; nested maps or dotted keys), then `TARN_*`\n")
                .append("environment variables, then command-line flags; later sources win. An unknown key stops\n")
                .append("Tarn with the nearest known key as a suggestion.\n\n")
                .append("| Key | Type | Default | Rule | Environment variable | Description |\n")
                .append("|---|---|---|---|---|---|\n");
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            out.append("| `%s` | %s | `%s` | %s | `%s` | %s |\n"
                    .formatted(
                            key.name(),
                            key.typeName(),
                            key.defaultText(),
                            key.ruleText(),
                            key.environmentVariable(),
                            key.description()));
        }
        return out.toString();
    }

    public static void main(String[] args) throws IOException {
        Files.writeString(Path.of(args[0]), markdown());
    }
}
