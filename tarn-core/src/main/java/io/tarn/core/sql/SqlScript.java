package io.tarn.core.sql;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a SQL script into statements at semicolons that are outside string literals, quoted identifiers and
 * comments. Comments are kept with their statement; empty statements are dropped. The pieces are only candidates:
 * what each one is (and that it is one statement) is decided by the engine's own parser.
 */
public final class SqlScript {
    private SqlScript() {}

    /**
     * @throws TarnException {@link ErrorCode#INVALID_SQL} when a literal, identifier or comment is not closed
     */
    public static List<String> split(String script) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int i = 0;
        int n = script.length();
        while (i < n) {
            char c = script.charAt(i);
            int skipped = endOfQuotedOrComment(script, i);
            if (skipped > i) {
                current.append(script, i, skipped);
                i = skipped;
            } else if (c == ';') {
                add(statements, current);
                current.setLength(0);
                i++;
            } else {
                current.append(c);
                i++;
            }
        }
        add(statements, current);
        return statements;
    }

    /**
     * Back-quotes every unquoted use of {@code word} as a qualifier ({@code word.name}) outside literals and comments.
     * Tarn's {@code stream.<topic>} tables need it: {@code STREAM} is a reserved word of Flink's SQL parser.
     */
    public static String quoteQualifier(String sql, String word) {
        StringBuilder out = new StringBuilder(sql.length() + 8);
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            int skipped = endOfQuotedOrComment(sql, i);
            if (skipped > i) {
                out.append(sql, i, skipped);
                i = skipped;
            } else if (Character.isLetter(c) || c == '_') {
                int end = i;
                while (end < n
                        && (Character.isLetterOrDigit(sql.charAt(end))
                                || sql.charAt(end) == '_'
                                || sql.charAt(end) == '$')) {
                    end++;
                }
                String token = sql.substring(i, end);
                int next = end;
                while (next < n && Character.isWhitespace(sql.charAt(next))) {
                    next++;
                }
                boolean qualifier = next < n && sql.charAt(next) == '.';
                boolean qualified = i > 0 && sql.charAt(i - 1) == '.';
                if (qualifier && !qualified && token.equalsIgnoreCase(word)) {
                    out.append('`').append(word).append('`');
                } else {
                    out.append(token);
                }
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /**
     * If a literal, quoted identifier or comment starts at {@code i}, the index just after it; else {@code i}.
     *
     * @throws TarnException {@link ErrorCode#INVALID_SQL} when it is not closed
     */
    private static int endOfQuotedOrComment(String sql, int i) {
        char c = sql.charAt(i);
        boolean twoChars = i + 1 < sql.length();
        if (c == '\'' || c == '"' || c == '`') {
            return closing(sql, i, c);
        }
        if (c == '-' && twoChars && sql.charAt(i + 1) == '-') {
            int end = sql.indexOf('\n', i);
            return end < 0 ? sql.length() : end + 1;
        }
        if (c == '/' && twoChars && sql.charAt(i + 1) == '*') {
            int end = sql.indexOf("*/", i + 2);
            if (end < 0) {
                throw new TarnException(ErrorCode.INVALID_SQL, "unclosed /* comment at character " + i);
            }
            return end + 2;
        }
        return i;
    }

    private static int closing(String script, int start, char quote) {
        int i = start + 1;
        while (i < script.length()) {
            if (script.charAt(i) == quote) {
                if (i + 1 < script.length() && script.charAt(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        throw new TarnException(
                ErrorCode.INVALID_SQL, "unclosed %s starting at character %d".formatted(String.valueOf(quote), start));
    }

    private static void add(List<String> statements, StringBuilder current) {
        String statement = current.toString().strip();
        if (!stripComments(statement).isBlank()) {
            statements.add(statement);
        }
    }

    /** The statement without leading comments and whitespace, for recognising its kind. */
    public static String stripComments(String statement) {
        String s = statement.strip();
        while (true) {
            if (s.startsWith("--")) {
                int end = s.indexOf('\n');
                s = end < 0 ? "" : s.substring(end + 1).strip();
            } else if (s.startsWith("/*")) {
                int end = s.indexOf("*/");
                s = end < 0 ? "" : s.substring(end + 2).strip();
            } else {
                return s;
            }
        }
    }
}
