package io.tarn.core.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Tarn's configuration: the values of {@link ConfigKeys}, layered from lowest to highest precedence as defaults, the
 * YAML file, {@code TARN_*} environment variables and explicit overrides (command-line flags). Unknown keys are refused
 * with the nearest known key as a suggestion, so a typo never silently falls back to a default.
 */
public final class TarnConfig {
    private final Map<String, String> values;

    private TarnConfig(Map<String, String> values) {
        this.values = Map.copyOf(values);
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            key.parse(text(key));
        }
    }

    /** The defaults only. */
    public static TarnConfig defaults() {
        return new TarnConfig(Map.of());
    }

    /**
     * Loads the layered configuration.
     *
     * @param file YAML file (nested maps or dotted keys), if any
     * @param environment the process environment; only {@code TARN_*} variables that name a key are used
     * @param overrides highest-precedence values by key name
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} for an unreadable file, an unknown key or a bad value
     */
    public static TarnConfig load(Optional<Path> file, Map<String, String> environment, Map<String, String> overrides) {
        Map<String, String> values = new LinkedHashMap<>();
        file.ifPresent(path -> values.putAll(readYaml(path)));
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            String fromEnvironment = environment.get(key.environmentVariable());
            if (fromEnvironment != null) {
                values.put(key.name(), fromEnvironment);
            }
        }
        for (var entry : overrides.entrySet()) {
            requireKnown(entry.getKey(), "override");
            values.put(entry.getKey(), entry.getValue());
        }
        return new TarnConfig(values);
    }

    public <T> T get(ConfigKey<T> key) {
        return key.parse(text(key));
    }

    /** A copy with one value replaced. */
    public TarnConfig with(ConfigKey<?> key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(values);
        copy.put(key.name(), value);
        return new TarnConfig(copy);
    }

    public Path dataDir() {
        return Path.of(get(ConfigKeys.DATA_DIR)).toAbsolutePath().normalize();
    }

    private String text(ConfigKey<?> key) {
        return values.getOrDefault(key.name(), key.defaultText());
    }

    private static Map<String, String> readYaml(Path path) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(path));
        } catch (IOException e) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "cannot read config file '%s': %s".formatted(path.getFileName(), TarnException.rootMessage(e)),
                    e);
        }
        Map<String, String> flat = new LinkedHashMap<>();
        if (root != null && !root.isMissingNode() && !root.isNull()) {
            if (!root.isObject()) {
                throw new TarnException(
                        ErrorCode.INVALID_CONFIG,
                        "config file '%s' must be a map of keys".formatted(path.getFileName()));
            }
            flatten("", root, flat);
        }
        flat.keySet().forEach(name -> requireKnown(name, "config file"));
        return flat;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> into) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            var field = it.next();
            String name = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            if (field.getValue().isObject()
                    && ConfigKeys.ALL.stream().noneMatch(k -> k.name().equals(name))) {
                flatten(name, field.getValue(), into);
            } else {
                into.put(name, field.getValue().isNull() ? "" : field.getValue().asText());
            }
        }
    }

    private static void requireKnown(String name, String source) {
        if (ConfigKeys.ALL.stream().anyMatch(k -> k.name().equals(name))) {
            return;
        }
        String nearest = ConfigKeys.ALL.stream()
                .map(ConfigKey::name)
                .min(Comparator.comparingInt(known -> editDistance(known, name)))
                .orElseThrow();
        throw new TarnException(
                ErrorCode.INVALID_CONFIG,
                "unknown config key '%s' in %s; did you mean '%s'?".formatted(name, source, nearest));
    }

    static int editDistance(String a, String b) {
        requireNonNull(a, "a is null");
        requireNonNull(b, "b is null");
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
