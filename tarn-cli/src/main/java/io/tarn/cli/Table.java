package io.tarn.cli;

import java.util.ArrayList;
import java.util.List;

/** Renders rows as an aligned text table, the way psql does. */
final class Table {
    private Table() {}

    static String render(List<String> header, List<List<String>> rows) {
        int[] widths = new int[header.size()];
        for (int i = 0; i < header.size(); i++) {
            widths[i] = header.get(i).length();
        }
        for (List<String> row : rows) {
            for (int i = 0; i < row.size() && i < widths.length; i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        StringBuilder out = new StringBuilder();
        line(out, header, widths);
        List<String> rule = new ArrayList<>();
        for (int width : widths) {
            rule.add("-".repeat(width));
        }
        out.append(String.join("-+-", rule)).append('\n');
        rows.forEach(row -> line(out, row, widths));
        out.append("(%d row%s)".formatted(rows.size(), rows.size() == 1 ? "" : "s"))
                .append('\n');
        return out.toString();
    }

    private static void line(StringBuilder out, List<String> cells, int[] widths) {
        List<String> padded = new ArrayList<>();
        for (int i = 0; i < widths.length; i++) {
            String cell = i < cells.size() ? cells.get(i) : "";
            padded.add(cell + " ".repeat(widths[i] - cell.length()));
        }
        out.append(String.join(" | ", padded).stripTrailing()).append('\n');
    }
}
