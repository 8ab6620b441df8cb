package io.tarn.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * Turns runs into results: medians with min–max per variant, ratios between variants paired per repetition (both ran
 * back to back, so machine noise hits them alike), written as JSON, a Markdown table and an SVG bar chart.
 */
final class Report {
    /** The plain-Flink baselines' variants are named by their parallelism: {@code plain-flink-p1}, {@code -p2}. */
    private static final String PLAIN_FLINK = "plain-flink";
    /**
     * The best plain-Flink variant of each repetition (the one with most rows/s): ratios against it compare Tarn with
     * what a user of plain Flink would get from the same cores.
     */
    static final String PLAIN_FLINK_BEST = PLAIN_FLINK + "-best";

    /** Ratios reported: workload, variant, baseline. */
    private static final List<String[]> RATIOS = List.of(
            new String[] {IngestLake.NAME, "tarn", PLAIN_FLINK_BEST},
            // plain Flink on every core against one (the same pair when the machine has one core: no ratio)
            new String[] {IngestLake.NAME, plainFlink(widestPlainFlink()), plainFlink(1)},
            new String[] {IngestLake.NAME, "tarn", "raw-kafka"},
            new String[] {IngestLake.NAME, "tarn", "direct-writer"},
            new String[] {IngestLake.NAME, "direct-writer", PLAIN_FLINK_BEST},
            new String[] {HttpIngest.NAME, "tarn-http", "kafka-producer"},
            new String[] {HttpIngest.NAME, "tarn-http-fsync", "tarn-http"},
            new String[] {Nexmark.NAME, "tarn", PLAIN_FLINK_BEST},
            new String[] {LakeSql.NAME, "tarn", "raw-duckdb"},
            new String[] {LakeSql.NAME, "tarn", "flink-batch"},
            new String[] {CompactionBench.NAME, "tarn", "iceberg-flink"},
            new String[] {Cdc.NAME, "tarn-snapshot", "pg-copy"},
            new String[] {Cdc.NAME, "tarn-snapshot-lake", "pg-copy"},
            new String[] {LiveView.NAME, "lookup-http", "lookup-sqlite-store"},
            // a workload's own name: the soak's ingest only (the soak itself takes the same fixed rate either way)
            new String[] {Soak.INGEST, "maintenance-on", "maintenance-off"},
            new String[] {ScaleOut.NAME, "s3", "local"},
            new String[] {ScaleOut.NAME, "session-cluster", "local"});

    /**
     * The sizes at which a workload's figures are its full-size figures: {@code ./tarn bench}'s defaults. Only a run at
     * these sizes, with every variant and at least three repetitions, replaces the workload's latest results in the
     * docs; a smaller or partial run (e.g. for profiling) leaves them alone.
     */
    static final Map<String, Map<String, Object>> FULL_SIZE = Map.ofEntries(
            Map.entry(IngestLake.NAME, Map.of("lakeEvents", 20_000_000)),
            Map.entry(ScaleOut.NAME, Map.of("scaleOutEvents", 5_000_000)),
            Map.entry(HttpIngest.NAME, Map.of("httpEvents", 2_000_000, "httpClients", 4, "httpBatch", 1_000)),
            Map.entry(Freshness.NAME, Map.of("freshnessRates", List.of(10_000, 50_000), "freshnessSeconds", 60)),
            Map.entry(Nexmark.NAME, Map.of("nexmarkEvents", 10_000_000, "nexmarkQueries", "all")),
            Map.entry(LakeSql.NAME, Map.of("lakeEvents", 20_000_000, "lakeStreamSeconds", 600)),
            Map.entry(CompactionBench.NAME, Map.of("compactionRows", 20_000_000, "compactionFiles", 1_000)),
            Map.entry(StartRecovery.NAME, Map.of()),
            Map.entry(Memory.NAME, Map.of("memoryRate", 100_000, "memorySeconds", 600)),
            Map.entry(Cdc.NAME, Map.of("cdcRows", 1_000_000, "cdcChangesPerSecond", 200, "cdcChangesSeconds", 60)),
            Map.entry(LiveView.NAME, Map.of("liveRates", List.of(10_000, 25_000, 50_000), "liveKeys", 1_000_000)),
            Map.entry(Soak.NAME, Map.of("soakSeconds", 1_800, "soakRate", 10_000, "soakDrainEvents", 20_000_000)));

    private static final int FULL_REPETITIONS = 3;

    /** Workloads that run once whatever the repetitions (a soak takes an hour). */
    private static final Set<String> RUN_ONCE = Set.of(Soak.NAME);

    private final Map<String, Object> machine;
    private final Map<String, Object> settings;
    private final List<Run> runs;
    private final String started;

    Report(Map<String, Object> machine, Map<String, Object> settings, List<Run> runs, LocalDateTime started) {
        this(machine, settings, runs, started.format(DateTimeFormatter.ISO_LOCAL_DATE_TIME));
    }

    private Report(Map<String, Object> machine, Map<String, Object> settings, List<Run> runs, String started) {
        this.machine = machine;
        this.settings = settings;
        this.runs = runs;
        this.started = started;
    }

    /** The report of a results file written by {@link #write}. */
    static Report read(Path json) throws IOException {
        JsonNode node = BenchContext.JSON.readTree(json.toFile());
        return new Report(
                BenchContext.JSON.convertValue(node.path("machine"), new TypeReference<Map<String, Object>>() {}),
                BenchContext.JSON.convertValue(node.path("settings"), new TypeReference<Map<String, Object>>() {}),
                BenchContext.JSON.convertValue(node.path("runs"), new TypeReference<List<Run>>() {}),
                node.path("started").asText());
    }

    static void log(String line) {
        System.err.printf("%s bench: %s%n", LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_TIME), line);
    }

    /** Summary of each variant, in the order they first ran. */
    List<Map<String, Object>> summaries() {
        Map<String, List<Run>> byVariant = runs.stream()
                .collect(Collectors.groupingBy(
                        r -> r.workload() + "/" + r.variant(), LinkedHashMap::new, Collectors.toList()));
        List<Map<String, Object>> summaries = new ArrayList<>();
        byVariant.forEach((key, list) -> {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("workload", list.get(0).workload());
            s.put("variant", list.get(0).variant());
            s.put("runs", list.size());
            s.put("rows", list.get(0).rows());
            s.put("rowsPerSecondMedian", median(list, Run::rowsPerSecond));
            s.put(
                    "rowsPerSecondMin",
                    list.stream().mapToDouble(Run::rowsPerSecond).min().orElseThrow());
            s.put(
                    "rowsPerSecondMax",
                    list.stream().mapToDouble(Run::rowsPerSecond).max().orElseThrow());
            s.put("secondsMedian", median(list, Run::seconds));
            s.put("cpuSecondsPerMillionRowsMedian", median(list, Run::cpuSecondsPerMillionRows));
            Map<String, Object> extra = new LinkedHashMap<>(list.get(0).extra());
            // series (the soak's samples) are drawn, not listed
            extra.values().removeIf(v -> v instanceof Collection<?> || v instanceof Map<?, ?>);
            for (Map.Entry<String, Object> e : list.get(0).extra().entrySet()) {
                if (e.getValue() instanceof Number) {
                    // Figures that vary per run are reported as their median.
                    double median = median(list, r -> ((Number) r.extra().get(e.getKey())).doubleValue());
                    extra.put(e.getKey(), median == Math.rint(median) ? (Object) (long) median : median);
                }
            }
            s.put("extra", extra);
            summaries.add(s);
        });
        return summaries;
    }

    /** Paired ratios of rows/s, per repetition, summarised. */
    List<Map<String, Object>> ratios() {
        List<Map<String, Object>> ratios = new ArrayList<>();
        List<String> workloads = runs.stream().map(Run::workload).distinct().toList();
        for (String[] r : RATIOS) {
            for (String workload : workloads) {
                if ((r[0].contains("/") ? workload : family(workload)).equals(r[0])) {
                    ratio(workload, r[1], r[2]).ifPresent(ratios::add);
                }
            }
        }
        return ratios;
    }

    private static int widestPlainFlink() {
        List<Integer> parallelisms = BenchContext.plainFlinkParallelisms();
        return parallelisms.get(parallelisms.size() - 1);
    }

    /** The name of the plain-Flink baseline at a parallelism. */
    static String plainFlink(int parallelism) {
        return PLAIN_FLINK + "-p" + parallelism;
    }

    private Optional<Map<String, Object>> ratio(String workload, String variant, String baseline) {
        if (variant.equals(baseline)) {
            return Optional.empty();
        }
        List<Double> paired = new ArrayList<>();
        for (Run run : runs) {
            if (run.workload().equals(workload) && run.variant().equals(variant)) {
                runs.stream()
                        .filter(b -> b.workload().equals(workload)
                                && isBaseline(b.variant(), baseline)
                                && b.repetition() == run.repetition())
                        .mapToDouble(Run::rowsPerSecond)
                        .max()
                        .ifPresent(best -> paired.add(run.rowsPerSecond() / best));
            }
        }
        if (paired.isEmpty()) {
            return Optional.empty();
        }
        paired.sort(Comparator.naturalOrder());
        Map<String, Object> ratio = new LinkedHashMap<>();
        ratio.put("workload", workload);
        ratio.put("ratio", variant + " / " + baseline);
        ratio.put("median", medianOf(paired));
        ratio.put("min", paired.get(0));
        ratio.put("max", paired.get(paired.size() - 1));
        return Optional.of(ratio);
    }

    /**
     * Whether a run's variant is the baseline: itself, or for {@link #PLAIN_FLINK_BEST} every plain-Flink variant (of
     * which the best is taken).
     */
    private static boolean isBaseline(String variant, String baseline) {
        return baseline.equals(PLAIN_FLINK_BEST) ? variant.startsWith(PLAIN_FLINK) : variant.equals(baseline);
    }

    /** Writes {@code <stem>.json}, {@code .md} and {@code .svg} into {@code directory}; returns the Markdown. */
    String write(Path directory, String stem) throws IOException {
        Files.createDirectories(directory);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("started", started);
        json.put("machine", machine);
        json.put("settings", settings);
        json.put("summaries", summaries());
        json.put("ratios", ratios());
        json.put("runs", runs);
        BenchContext.JSON
                .copy()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(directory.resolve(stem + ".json").toFile(), json);
        String markdown = markdown(stem + ".svg");
        Files.writeString(directory.resolve(stem + ".md"), markdown);
        Files.writeString(directory.resolve(stem + ".svg"), svg());
        Optional<String> soak = soakSvg();
        if (soak.isPresent()) {
            Files.writeString(directory.resolve(stem + "-soak.svg"), soak.get());
        }
        return markdown;
    }

    String markdown(String svgName) {
        StringBuilder md = new StringBuilder();
        md.append("Run of %s on `%s` (%s cores, %s; %s).%n%n"
                .formatted(
                        started, machine.get("host"), machine.get("cores"), machine.get("cpu"), machine.get("java")));
        md.append("Settings: ").append(settings).append("\n\n");
        tables(md, workload -> true);
        md.append("\n![rows per second](").append(svgName).append(")\n");
        if (soakSvg().isPresent()) {
            md.append("\n![soak: samples over time](")
                    .append(svgName.replaceFirst("\\.svg$", "-soak.svg"))
                    .append(")\n");
        }
        return md.toString();
    }

    /** The table of variants and the table of ratios, of the workloads {@code included} accepts. */
    private void tables(StringBuilder md, Predicate<String> included) {
        md.append("| workload | variant | rows/s (median) | min – max | CPU-s per M rows | runs | details |\n");
        md.append("|---|---|---:|---:|---:|---:|---|\n");
        for (Map<String, Object> s : summaries()) {
            if (!included.test((String) s.get("workload"))) {
                continue;
            }
            md.append("| %s | %s | %s | %s – %s | %.1f | %s | %s |%n"
                    .formatted(
                            s.get("workload"),
                            s.get("variant"),
                            number((double) s.get("rowsPerSecondMedian")),
                            number((double) s.get("rowsPerSecondMin")),
                            number((double) s.get("rowsPerSecondMax")),
                            (double) s.get("cpuSecondsPerMillionRowsMedian"),
                            s.get("runs"),
                            s.get("extra")));
        }
        List<Map<String, Object>> ratios = ratios().stream()
                .filter(r -> included.test((String) r.get("workload")))
                .toList();
        if (ratios.isEmpty()) {
            return;
        }
        md.append("\n| ratio (paired per repetition) | median | min – max |\n|---|---:|---:|\n");
        for (Map<String, Object> r : ratios) {
            md.append("| %s: %s | %.2f | %.2f – %.2f |%n"
                    .formatted(r.get("workload"), r.get("ratio"), r.get("median"), r.get("min"), r.get("max")));
        }
    }

    /** Horizontal bars of median rows/s per variant, with min–max whiskers. */
    String svg() {
        List<Map<String, Object>> summaries = summaries();
        double max = summaries.stream()
                .mapToDouble(s -> (double) s.get("rowsPerSecondMax"))
                .max()
                .orElse(1);
        int rowHeight = 28;
        int left = 260;
        int width = 560;
        int height = 40 + rowHeight * summaries.size();
        StringBuilder svg = new StringBuilder();
        svg.append(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n"
                        .formatted(left + width + 120, height));
        svg.append(
                "<text x=\"10\" y=\"20\" font-weight=\"bold\">rows (events) per second, median of %s runs, whiskers min–max</text>%n"
                        .formatted(summaries.isEmpty() ? 0 : summaries.get(0).get("runs")));
        int y = 36;
        for (Map<String, Object> s : summaries) {
            double median = (double) s.get("rowsPerSecondMedian");
            double lo = (double) s.get("rowsPerSecondMin");
            double hi = (double) s.get("rowsPerSecondMax");
            int bar = (int) (width * median / max);
            svg.append(
                    "<text x=\"10\" y=\"%d\">%s: %s</text>%n".formatted(y + 15, s.get("workload"), s.get("variant")));
            svg.append("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\" fill=\"#4a7fb5\"/>%n"
                    .formatted(left, y + 2, bar));
            svg.append("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n"
                    .formatted(left + (int) (width * lo / max), y + 11, left + (int) (width * hi / max), y + 11));
            svg.append("<text x=\"%d\" y=\"%d\">%s</text>%n".formatted(left + bar + 6, y + 15, number(median)));
            y += rowHeight;
        }
        svg.append("</svg>\n");
        return svg.toString();
    }

    /** The soak's samples as they are drawn: a panel per figure, a line per variant. */
    private static final String[][] SOAK_PANELS = {
        {"p99Ms", "query latency p99 (ms)"},
        {"p50Ms", "query latency p50 (ms)"},
        {"dataFiles", "data files (both tables)"},
        {"deleteFiles", "delete files (both tables)"},
        {"rssMiB", "server RSS (MiB)"},
        {"queries", "queries answered per sample"}
    };

    private static final String[] SOAK_COLOURS = {"#b05a4a", "#4a7fb5", "#5aa05a"};

    /** Line charts of the soak's samples over time, one line per variant (maintenance off, on); empty without any. */
    Optional<String> soakSvg() {
        List<Run> soaks = runs.stream()
                .filter(r -> r.workload().equals(Soak.NAME) && r.extra().get("samples") instanceof List<?>)
                .toList();
        if (soaks.isEmpty()) {
            return Optional.empty();
        }
        int panelWidth = 380;
        int panelHeight = 180;
        int columns = 2;
        int rows = (SOAK_PANELS.length + columns - 1) / columns;
        StringBuilder svg = new StringBuilder();
        svg.append(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n"
                        .formatted(columns * panelWidth + 20, rows * panelHeight + 50));
        svg.append(
                "<text x=\"10\" y=\"18\" font-weight=\"bold\">soak: samples over minutes of load</text>%n".formatted());
        for (int v = 0; v < soaks.size(); v++) {
            svg.append("<text x=\"%d\" y=\"36\" fill=\"%s\">&#9632; %s</text>%n"
                    .formatted(
                            10 + 160 * v,
                            SOAK_COLOURS[v % SOAK_COLOURS.length],
                            soaks.get(v).variant()));
        }
        for (int p = 0; p < SOAK_PANELS.length; p++) {
            int x0 = 10 + (p % columns) * panelWidth + 50;
            int y0 = 50 + (p / columns) * panelHeight + 20;
            int width = panelWidth - 70;
            int height = panelHeight - 50;
            String key = SOAK_PANELS[p][0];
            double maxX = 0;
            double maxY = 0;
            for (Run run : soaks) {
                for (Map<?, ?> sample : samples(run)) {
                    maxX = Math.max(maxX, ((Number) sample.get("minute")).doubleValue());
                    maxY = Math.max(maxY, ((Number) sample.get(key)).doubleValue());
                }
            }
            maxX = maxX == 0 ? 1 : maxX;
            maxY = maxY == 0 ? 1 : maxY * 1.1;
            svg.append("<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>%n"
                    .formatted(x0, y0 - 6, SOAK_PANELS[p][1]));
            svg.append(("<polyline points=\"%d,%d %d,%d %d,%d\" fill=\"none\" stroke=\"black\"/>%n")
                    .formatted(x0, y0, x0, y0 + height, x0 + width, y0 + height));
            svg.append(
                    "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n".formatted(x0 - 4, y0 + 10, number(maxY)));
            svg.append("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>%n".formatted(x0 - 4, y0 + height));
            svg.append("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s min</text>%n"
                    .formatted(x0 + width, y0 + height + 14, number(maxX)));
            for (int v = 0; v < soaks.size(); v++) {
                StringBuilder points = new StringBuilder();
                for (Map<?, ?> sample : samples(soaks.get(v))) {
                    double x = ((Number) sample.get("minute")).doubleValue();
                    double y = ((Number) sample.get(key)).doubleValue();
                    points.append(String.format(
                            Locale.ROOT, "%.1f,%.1f ", x0 + width * x / maxX, y0 + height - height * y / maxY));
                }
                svg.append("<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n"
                        .formatted(points.toString().strip(), SOAK_COLOURS[v % SOAK_COLOURS.length]));
            }
        }
        svg.append("</svg>\n");
        return Optional.of(svg.toString());
    }

    private static List<Map<?, ?>> samples(Run run) {
        List<Map<?, ?>> samples = new ArrayList<>();
        for (Object sample : (List<?>) run.extra().get("samples")) {
            samples.add((Map<?, ?>) sample);
        }
        return samples;
    }

    /** The workloads this report ran at their full size, in the order they ran. */
    List<String> fullSizeWorkloads() {
        boolean complete = Boolean.FALSE.equals(settings.get("quick"))
                && "all".equals(settings.get("variants"))
                && ((Number) settings.getOrDefault("repetitions", 0)).intValue() >= FULL_REPETITIONS;
        return runs.stream()
                .map(run -> family(run.workload()))
                .distinct()
                .filter(workload -> complete
                        && FULL_SIZE.containsKey(workload)
                        && FULL_SIZE.get(workload).entrySet().stream().allMatch(e -> String.valueOf(e.getValue())
                                .equals(String.valueOf(settings.get(e.getKey())))))
                .toList();
    }

    /**
     * Replaces, in {@code docs}, the latest-results block of every workload this report ran at full size (see {@link
     * #FULL_SIZE}), keeping the rest of the page; a workload without a block gets one at the end of the page.
     *
     * @param results the report's Markdown file, as a link relative to the page
     * @param only the workloads whose blocks may be replaced; all if empty
     * @return the workloads whose blocks were replaced
     */
    List<String> updateDocs(Path docs, String results, List<String> only) throws IOException {
        String page = Files.readString(docs);
        List<String> updated = fullSizeWorkloads().stream()
                .filter(workload -> only.isEmpty() || only.contains(workload))
                .toList();
        for (String workload : updated) {
            String start = blockStart(workload);
            String end = blockEnd(workload);
            StringBuilder block =
                    new StringBuilder(start).append("\n### ").append(workload).append("\n\n");
            block.append("Run of %s on `%s` (%s cores, %s; %s): %s, %s; [every figure of the run](%s).%n%n"
                    .formatted(
                            started.substring(0, Math.min(16, started.length())).replace('T', ' '),
                            machine.get("host"),
                            machine.get("cores"),
                            machine.get("cpu"),
                            machine.get("java"),
                            RUN_ONCE.contains(workload)
                                    ? "run once (it is not repeated)"
                                    : "%s repetitions after %s warm-up(s)"
                                            .formatted(settings.get("repetitions"), settings.get("warmups")),
                            sizes(workload),
                            results));
            tables(block, w -> family(w).equals(workload));
            block.append(end);
            int from = page.indexOf(start);
            int to = page.indexOf(end);
            if (from < 0 || to < from) {
                page = page.stripTrailing() + "\n\n" + block + "\n";
            } else {
                page = page.substring(0, from) + block + page.substring(to + end.length());
            }
        }
        Files.writeString(docs, page);
        return updated;
    }

    private String sizes(String workload) {
        List<String> sizes = new ArrayList<>();
        FULL_SIZE.get(workload).keySet().stream().sorted().forEach(key -> sizes.add(key + " " + settings.get(key)));
        sizes.add("parallelism " + settings.get("parallelism"));
        sizes.add("checkpoint interval " + settings.get("checkpointInterval"));
        return String.join(", ", sizes);
    }

    static String blockStart(String workload) {
        return "<!-- bench:latest:" + workload + ":start -->";
    }

    static String blockEnd(String workload) {
        return "<!-- bench:latest:" + workload + ":end -->";
    }

    /** The workload a run belongs to: {@code nexmark/q5} is one of {@code nexmark}'s. */
    private static String family(String workload) {
        int slash = workload.indexOf('/');
        return slash < 0 ? workload : workload.substring(0, slash);
    }

    private static double median(List<Run> runs, ToDoubleFunction<Run> value) {
        List<Double> values =
                new ArrayList<>(runs.stream().map(value::applyAsDouble).toList());
        values.sort(Comparator.naturalOrder());
        return medianOf(values);
    }

    private static double medianOf(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String number(double value) {
        return String.format(Locale.ROOT, "%,.0f", value);
    }
}
