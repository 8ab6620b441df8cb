package io.tarn.core.config;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One configuration key: its dotted kebab-case name, how its text is parsed, its default, the rule a value must meet
 * and the sentence that documents it. All keys live in {@link ConfigKeys}; the configuration reference is generated
 * from them.
 *
 * @param <T> the parsed type
 */
public record ConfigKey<T>(
        String name,
        String typeName,
        Function<String, T> parser,
        String defaultText,
        Predicate<T> rule,
        String ruleText,
        String description) {

    public ConfigKey {
        requireNonNull(name, "name is null");
        requireNonNull(typeName, "typeName is null");
        requireNonNull(parser, "parser is null");
        requireNonNull(defaultText, "defaultText is null");
        requireNonNull(rule, "rule is null");
        requireNonNull(ruleText, "ruleText is null");
        requireNonNull(description, "description is null");
        if (!name.matches("[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)*")) {
            throw new IllegalArgumentException("config key name is not dotted kebab-case: " + name);
        }
    }

    /**
     * Parses and validates a value of this key.
     *
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} naming the key and the value when it does not parse or
     *     breaks the rule
     */
    public T parse(String text) {
        T value;
        try {
            value = parser.apply(text.trim());
        } catch (RuntimeException e) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "config key '%s' expects %s, got '%s'".formatted(name, typeName, text),
                    e);
        }
        if (!rule.test(value)) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG, "config key '%s' must be %s, got '%s'".formatted(name, ruleText, text));
        }
        return value;
    }

    public T defaultValue() {
        return parse(defaultText);
    }

    /** The environment variable that overrides this key: {@code TARN_} and the name upper-cased, '.' and '-' as '_'. */
    public String environmentVariable() {
        return "TARN_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
