package io.tarn.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A strict reader of Prometheus' text exposition format (version 0.0.4), as Prometheus' own parser reads it: every
 * line is a {@code # HELP}, a {@code # TYPE} before its family's samples, a comment, or a sample {@code name{label="value",
 * …} value [timestamp]} whose name and labels are well formed, label values escaped ({@code \\}, {@code \"}, {@code
 * \n}), its value a float, {@code NaN} or {@code ±Inf}; a family's samples keep together and a sample belongs to its
 * family's type (a histogram's {@code _bucket} with {@code le}, {@code _sum}, {@code _count}; a counter's name). Any
 * other line fails the parse, naming it.
 */
final class PrometheusText {
    /** One sample. */
    record Sample(String name, Map<String, String> labels, double value) {}

    private final List<Sample> samples = new ArrayList<>();
    private final Map<String, String> types = new HashMap<>();

    private PrometheusText() {}

    List<Sample> samples() {
        return samples;
    }

    Map<String, String> types() {
        return types;
    }

    /** The value of the one sample of this name and labels, failing if there is none or several. */
    double value(String name, Map<String, String> labels) {
        List<Sample> found = samples.stream()
                .filter(s -> s.name().equals(name) && s.labels().equals(labels))
                .toList();
        if (found.size() != 1) {
            throw new AssertionError("%d samples %s%s".formatted(found.size(), name, labels));
        }
        return found.get(0).value();
    }

    /** The samples of a name, whatever their labels. */
    List<Sample> named(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).toList();
    }

    static PrometheusText parse(String text) {
        PrometheusText parsed = new PrometheusText();
        String family = null;
        Set<String> closed = new java.util.HashSet<>();
        int number = 0;
        for (String line : text.split("\n", -1)) {
            number++;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                if (parts.length >= 3 && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
                    requireName(parts[2], number, line);
                    if (parts[1].equals("TYPE")) {
                        if (parts.length != 4
                                || !List.of("counter", "gauge", "histogram", "summary", "untyped")
                                        .contains(parts[3])) {
                            throw new IllegalArgumentException("line %d: bad TYPE: %s".formatted(number, line));
                        }
                        if (parsed.types.put(parts[2], parts[3]) != null) {
                            throw new IllegalArgumentException(
                                    "line %d: second TYPE of %s".formatted(number, parts[2]));
                        }
                        if (family != null && !family.equals(parts[2])) {
                            closed.add(family);
                        }
                        family = parts[2];
                    }
                }
                continue;
            }
            Sample sample = sample(line, number);
            String of = familyOf(sample.name(), parsed.types);
            if (of == null) {
                throw new IllegalArgumentException(
                        "line %d: a sample of no declared family: %s".formatted(number, line));
            }
            if (closed.contains(of) || !of.equals(family)) {
                throw new IllegalArgumentException(
                        "line %d: a sample away from its family's TYPE: %s".formatted(number, line));
            }
            if (parsed.types.get(of).equals("histogram")
                    && sample.name().endsWith("_bucket")
                    && !sample.labels().containsKey("le")) {
                throw new IllegalArgumentException("line %d: a bucket without le: %s".formatted(number, line));
            }
            parsed.samples.add(sample);
        }
        return parsed;
    }

    private static String familyOf(String name, Map<String, String> types) {
        if (types.containsKey(name)) {
            return name;
        }
        for (String suffix : List.of("_bucket", "_sum", "_count", "_total", "_max")) {
            if (name.endsWith(suffix)) {
                String base = name.substring(0, name.length() - suffix.length());
                if (types.containsKey(base)) {
                    return base;
                }
            }
        }
        return null;
    }

    private static Sample sample(String line, int number) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        requireName(name, number, line);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                String label = line.substring(i, eq);
                if (!label.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
                    throw new IllegalArgumentException("line %d: bad label name: %s".formatted(number, line));
                }
                if (line.charAt(eq + 1) != '"') {
                    throw new IllegalArgumentException("line %d: unquoted label value: %s".formatted(number, line));
                }
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                for (; line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char next = line.charAt(++j);
                        value.append(
                                switch (next) {
                                    case '\\' -> '\\';
                                    case '"' -> '"';
                                    case 'n' -> '\n';
                                    default ->
                                        throw new IllegalArgumentException(
                                                "line %d: bad escape: %s".formatted(number, line));
                                });
                    } else {
                        value.append(c);
                    }
                }
                if (labels.put(label, value.toString()) != null) {
                    throw new IllegalArgumentException("line %d: label twice: %s".formatted(number, line));
                }
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        String[] rest = line.substring(i).strip().split(" ");
        if (line.charAt(i) != ' ' || rest.length < 1 || rest.length > 2) {
            throw new IllegalArgumentException("line %d: bad sample: %s".formatted(number, line));
        }
        double value =
                switch (rest[0]) {
                    case "NaN" -> Double.NaN;
                    case "+Inf" -> Double.POSITIVE_INFINITY;
                    case "-Inf" -> Double.NEGATIVE_INFINITY;
                    default -> Double.parseDouble(rest[0]);
                };
        if (rest.length == 2) {
            Long.parseLong(rest[1]);
        }
        return new Sample(name, labels, value);
    }

    private static void requireName(String name, int number, String line) {
        if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
            throw new IllegalArgumentException("line %d: bad metric name: %s".formatted(number, line));
        }
    }
}
