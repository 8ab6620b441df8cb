package io.tarn.core.sql;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
     * Replaces, outside literals and comments, each three-part name {@code <catalog>.<ns>.<table>} whose {@code
     * <ns>.<table>} is a key of {@code renames} by {@code <catalog>.<value>}, back-quoted. Parts are compared as
     * written (an unquoted part as it is, a quoted one without its quotes). The result is only a candidate: the caller
     * checks with the engine's parser what its statements name.
     */
    public static String renameTables(String sql, String catalog, Map<String, String> renames) {
        StringBuilder out = new StringBuilder(sql.length() + 16);
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '`' || Character.isLetter(c) || c == '_') {
                List<String> parts = new ArrayList<>();
                int end = i;
                while (true) {
                    int partEnd = partEnd(sql, end);
                    parts.add(part(sql, end, partEnd));
                    int next = skipSpace(sql, partEnd);
                    if (next < n && sql.charAt(next) == '.') {
                        int after = skipSpace(sql, next + 1);
                        if (after < n && (sql.charAt(after) == '`' || isWordStart(sql.charAt(after)))) {
                            end = after;
                            continue;
                        }
                    }
                    end = partEnd;
                    break;
                }
                String renamed = parts.size() == 3 && parts.get(0).equals(catalog)
                        ? renames.get(parts.get(1) + "." + parts.get(2))
                        : null;
                if (renamed == null) {
                    out.append(sql, i, end);
                } else {
                    out.append(quote(catalog));
                    for (String part : renamed.split("\\.", 2)) {
                        out.append('.').append(quote(part));
                    }
                }
                i = end;
                continue;
            }
            int skipped = endOfQuotedOrComment(sql, i);
            if (skipped > i) {
                out.append(sql, i, skipped);
                i = skipped;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static boolean isWordStart(char c) {
        return Character.isLetter(c) || c == '_';
    }

    /** The end of the identifier part (a word, or a back-quoted name) starting at {@code i}. */
    private static int partEnd(String sql, int i) {
        if (sql.charAt(i) == '`') {
            return closing(sql, i, '`');
        }
        int end = i;
        while (end < sql.length()
                && (Character.isLetterOrDigit(sql.charAt(end)) || sql.charAt(end) == '_' || sql.charAt(end) == '$')) {
            end++;
        }
        return end;
    }

    private static String part(String sql, int start, int end) {
        return sql.charAt(start) == '`'
                ? sql.substring(start + 1, end - 1).replace("``", "`")
                : sql.substring(start, end);
    }

    private static int skipSpace(String sql, int i) {
        while (i < sql.length() && Character.isWhitespace(sql.charAt(i))) {
            i++;
        }
        return i;
    }

    private static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
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
