package io.tarn.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.interop.TarnProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console as a user drives it, in Debian's Chromium (headless) against {@code ./tarn server}: log in, create a
 * topic, produce records and see them live, create a pipeline and watch it run, query the lake and see the exact rows
 * and a chart, stop and start the pipeline. Every page is checked for JavaScript errors (the browser's log, which also
 * has every refused resource and every breach of the pages' Content Security Policy) and photographed into {@code
 * target/console-screenshots} (the pictures of docs/console.md).
 *
 * <p>One browser and one Tarn serve all the steps, in order. Without {@code /usr/bin/chromium} and {@code
 * /usr/bin/chromedriver} (Debian's chromium and chromium-driver, which {@code .ci/run} installs) the tests are skipped.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SHOTS = Path.of("target", "console-screenshots");
    private static final Duration WAIT = Duration.ofSeconds(20);

    private static TarnProcess tarn;
    private static WebDriver browser;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(
                Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "Debian's chromium and chromium-driver are not installed (.ci/run installs them)");
        tarn = TarnProcess.start(Path.of("target", "console-it"));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1400,1000",
                "--user-data-dir=" + Files.createTempDirectory("tarn-chromium"));
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
        Files.createDirectories(SHOTS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (tarn != null) {
            tarn.close();
        }
    }

    /** After every step: the pages logged no error. */
    @AfterEach
    void noJavaScriptErrors() {
        assertThat(errors()).isEmpty();
    }

    @Test
    @Order(1)
    void aWrongTokenIsRefusedAndTheRightOneLogsIn() {
        browser.get(tarn.http + "/");
        WebElement token = waitFor(By.id("token"));
        shot("login");
        token.sendKeys("tarn_" + "x".repeat(43));
        browser.findElement(By.id("login")).click();
        assertThat(waitFor(By.cssSelector("[role=alert]")).getText()).isEqualTo("That token is not valid.");
        // the refused call is the browser's only complaint
        assertThat(errors()).singleElement().asString().contains("401");

        token = browser.findElement(By.id("token"));
        token.clear();
        token.sendKeys(tarn.token);
        browser.findElement(By.id("login")).click();
        waitUntil(() -> text("[data-part=log] .value").equals("UP"));
        JsonNode ready = tarn.get("/v1/ready").body().path("parts");
        for (String part : List.of("log", "lake", "compute", "storage", "resumed")) {
            assertThat(text("[data-part=" + part + "] .value"))
                    .isEqualTo(ready.path(part).asBoolean() ? "UP" : "DOWN");
        }
    }

    @Test
    @Order(2)
    void aLinkWithTheTokenLogsInDirectlyAndLeavesTheAddressBar() {
        browser.get(tarn.http + "/#/logout");
        waitFor(By.id("token"));
        browser.get(tarn.http + "/#token=" + tarn.token);
        waitUntil(() -> text("[data-part=lake] .value").equals("UP"));
        assertThat(browser.getCurrentUrl()).isEqualTo(tarn.http + "/#/overview").doesNotContain(tarn.token);
    }

    @Test
    @Order(3)
    void createATopicProduceAndSeeTheRecordsLive() {
        go("#/topics");
        browser.findElement(By.name("topic-name")).sendKeys("clicks");
        browser.findElement(By.name("topic-columns")).sendKeys("id BIGINT, page STRING");
        browser.findElement(By.id("create-topic")).click();
        assertThat(waitFor(By.cssSelector("[role=status]")).getText()).isEqualTo("Topic clicks created.");
        JsonNode created = tarn.get("/v1/topics/clicks").body();
        List<String> columns = new ArrayList<>();
        created.path("columns")
                .forEach(c -> columns.add(
                        c.path("name").asText() + " " + c.path("type").asText()));
        assertThat(columns).startsWith("id BIGINT", "page STRING");
        waitUntil(() -> rows("#topics").contains(List.of("clicks", "1", "0", "json", String.join(", ", columns))));

        go("#/topics/clicks");
        waitFor(By.id("tail"));
        List<String> records = List.of(
                "{\"id\":1,\"page\":\"/home\"}", "{\"id\":2,\"page\":\"/pricing\"}", "{\"id\":3,\"page\":\"/home\"}");
        for (String record : records) {
            WebElement box = browser.findElement(By.name("record"));
            box.clear();
            box.sendKeys(record);
            browser.findElement(By.id("produce")).click();
            waitUntil(() -> text("[role=status]").equals("Accepted 1 record."));
            ((JavascriptExecutor) browser).executeScript("document.querySelector('[role=status]').remove()");
        }
        // newest first, each as Kafka holds it: partition, offset, time, key, value
        waitUntil(() -> rows("#tail").size() == 3);
        List<List<String>> tail = rows("#tail");
        for (int i = 0; i < 3; i++) {
            List<String> row = tail.get(2 - i);
            assertThat(row.get(0)).isEqualTo("0");
            assertThat(row.get(1)).isEqualTo(String.valueOf(i));
            assertThat(row.get(3)).isEmpty();
            assertThat(row.get(4)).isEqualTo(records.get(i));
        }
        // the topic's figures and its rate chart follow within one 5-second interval
        waitUntil(() -> text("#topic-records").equals("3"));
        waitUntil(
                () -> Integer.parseInt(browser.findElement(By.id("rate-chart")).getAttribute("data-points")) > 0);
        shot("topic");
    }

    @Test
    @Order(4)
    void createAPipelineAndWatchItRun() {
        go("#/pipelines");
        WebElement name = waitFor(By.name("pipeline-name"));
        name.sendKeys("clicks-to-lake");
        setEditor(
                "#pipeline-sql",
                "CREATE TABLE IF NOT EXISTS lake.web.clicks (id BIGINT, page STRING);\n"
                        + "INSERT INTO lake.web.clicks SELECT id, page FROM stream.clicks");
        browser.findElement(By.id("create-pipeline")).click();
        waitUntil(() -> browser.getCurrentUrl().endsWith("#/pipelines/clicks-to-lake"));
        waitUntil(Duration.ofMinutes(2), () -> text("#pipeline-state").equals("RUNNING"));
        JsonNode graph = tarn.get("/v1/pipelines/clicks-to-lake/graph").body();
        int vertices = graph.path("vertices").size();
        assertThat(vertices).isPositive();
        waitUntil(() -> browser.findElements(By.cssSelector("#job-graph svg.graph g.node"))
                        .size()
                == vertices);
        List<String> names = new ArrayList<>();
        graph.path("vertices").forEach(v -> names.add(v.path("id").asText()));
        List<String> drawn = new ArrayList<>();
        browser.findElements(By.cssSelector("#job-graph svg.graph g.node"))
                .forEach(node -> drawn.add(node.getAttribute("data-id")));
        assertThat(drawn).containsExactlyInAnyOrderElementsOf(names);
        assertThat(browser.findElements(By.cssSelector("#job-graph svg.graph path.edge")))
                .hasSize(graph.path("edges").size());
        waitUntil(() -> text("#checkpoints").startsWith("Checkpoints of the running job: "));
        shot("pipeline");

        go("#/pipelines");
        waitUntil(() -> rows("#pipelines").stream()
                .anyMatch(
                        row -> row.get(0).equals("clicks-to-lake") && row.get(1).equals("RUNNING")));
        shot("pipelines");
    }

    @Test
    @Order(5)
    void queryTheLakeAndSeeTheRowsAndAChart() {
        go("#/sql");
        waitFor(By.cssSelector("#sql-editor .CodeMirror"));
        setEditor("#sql-editor", "SELECT page, count(*) AS views FROM lake.web.clicks GROUP BY page ORDER BY page");
        // the rows are there once the pipeline's first checkpoint committed them
        new WebDriverWait(browser, Duration.ofMinutes(2))
                .pollingEvery(Duration.ofSeconds(2))
                .until(d -> {
                    browser.findElement(By.id("run")).click();
                    waitUntil(() -> !browser.findElements(By.id("result")).isEmpty()
                            || !browser.findElements(By.cssSelector("#query-status [role=alert]"))
                                    .isEmpty());
                    return rows("#result").equals(List.of(List.of("/home", "2"), List.of("/pricing", "1")));
                });
        assertThat(text("#query-status")).startsWith("2 rows · duckdb · ");
        assertThat(browser.findElement(By.id("result-chart")).getAttribute("data-points"))
                .isEqualTo("2");
        assertThat(browser.findElements(By.cssSelector("#result-chart canvas"))).hasSize(1);
        assertThat(tarn.rows("SELECT page, count(*) AS views FROM lake.web.clicks GROUP BY page ORDER BY page")
                        .toString())
                .isEqualTo("[[\"/home\",2],[\"/pricing\",1]]");
        shot("sql");

        go("#/tables/web.clicks");
        waitUntil(() -> rows("#result").size() == 3);
        assertThat(rows("#result"))
                .containsExactlyInAnyOrder(List.of("1", "/home"), List.of("2", "/pricing"), List.of("3", "/home"));
        assertThat(browser.findElements(By.cssSelector("#snapshot-chart canvas")))
                .hasSize(1);
        shot("table");

        go("#/overview");
        waitUntil(() -> rows("#overview-topics").stream()
                .anyMatch(row -> row.get(0).equals("clicks") && row.get(1).equals("3")));
        waitUntil(() ->
                rows("#overview-tables").stream().anyMatch(row -> row.get(0).equals("web.clicks")));
        shot("overview");
    }

    @Test
    @Order(6)
    void stopAndStartThePipeline() {
        go("#/pipelines/clicks-to-lake");
        click(By.id("stop"));
        waitUntil(Duration.ofMinutes(2), () -> text("#pipeline-state").equals("STOPPED"));
        assertThat(tarn.get("/v1/pipelines/clicks-to-lake").body().path("state").asText())
                .isEqualTo("STOPPED");
        click(By.id("start"));
        waitUntil(Duration.ofMinutes(2), () -> text("#pipeline-state").equals("RUNNING"));
        assertThat(tarn.get("/v1/pipelines/clicks-to-lake").body().path("state").asText())
                .isEqualTo("RUNNING");
    }

    @Test
    @Order(7)
    void lineageAndTheEmptyPages() {
        go("#/lineage?table=web.clicks");
        waitUntil(() -> rows("#lineage-nodes").size() == 3);
        assertThat(rows("#lineage-nodes"))
                .containsExactlyInAnyOrder(
                        List.of("topic", "clicks", "upstream"),
                        List.of("pipeline", "clicks-to-lake", "upstream"),
                        List.of("table", "web.clicks", "root"));
        shot("lineage");
        go("#/sources");
        waitUntil(() -> text("[data-page=sources]").contains("No sources."));
        go("#/views");
        waitUntil(() -> text("[data-page=views]").contains("No views."));
        // a live view's page: its rows by key, as the view serves them
        TarnProcess.Reply view = tarn.post(
                "/v1/views",
                Map.of("name", "page_views", "sql", "SELECT page, count(*) AS hits FROM stream.clicks GROUP BY page"));
        assertThat(view.status()).as(view.body().toString()).isEqualTo(201);
        go("#/views/page_views");
        waitUntil(Duration.ofMinutes(2), () -> rows("[data-page=views] table.data")
                .equals(List.of(List.of("/home", "2"), List.of("/pricing", "1"))));
        go("#/views");
        waitUntil(() -> rows("#views").stream().anyMatch(row -> row.get(0).equals("page_views")));
        go("#/tables");
        waitUntil(() -> rows("#tables").contains(List.of("web.clicks")));
    }

    private static void go(String hash) {
        browser.get(tarn.http + "/" + hash);
        String page = hash.substring(2).split("[/?]")[0];
        waitFor(By.cssSelector("[data-page=" + page + "]"));
    }

    /** Clicks an element once it is there (again if the page redrew it meanwhile). */
    private static void click(By by) {
        waitUntil(() -> {
            waitFor(by).click();
            return true;
        });
    }

    private static WebElement waitFor(By by) {
        return new WebDriverWait(browser, WAIT).until(d -> {
            List<WebElement> found = d.findElements(by);
            return found.isEmpty() ? null : found.get(0);
        });
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) {
        waitUntil(WAIT, condition);
    }

    /** Waits for a condition; if it never holds, the failure shows the page's text and leaves a screenshot. */
    private static void waitUntil(Duration timeout, java.util.function.BooleanSupplier condition) {
        try {
            new WebDriverWait(browser, timeout).until(d -> {
                try {
                    return condition.getAsBoolean();
                } catch (RuntimeException e) {
                    return false; // the page was redrawn between looking and reading
                }
            });
        } catch (org.openqa.selenium.TimeoutException e) {
            String failed = "failed-" + System.currentTimeMillis();
            shot(failed);
            throw new AssertionError(
                    "the page never got there (" + SHOTS.resolve(failed + ".png") + "); it shows:\n"
                            + browser.findElement(By.tagName("body")).getText(),
                    e);
        }
    }

    private static String text(String css) {
        List<WebElement> found = browser.findElements(By.cssSelector(css));
        return found.isEmpty() ? "" : found.get(0).getText();
    }

    /** The cells' texts of a table's body rows. */
    private static List<List<String>> rows(String css) {
        List<List<String>> rows = new ArrayList<>();
        for (WebElement row : browser.findElements(By.cssSelector(css + " tbody tr"))) {
            List<String> cells = new ArrayList<>();
            row.findElements(By.tagName("td")).forEach(cell -> cells.add(cell.getText()));
            rows.add(cells);
        }
        return rows;
    }

    private static void setEditor(String css, String sql) {
        waitFor(By.cssSelector(css + " .CodeMirror"));
        ((JavascriptExecutor) browser)
                .executeScript(
                        "document.querySelector(arguments[0] + ' .CodeMirror').CodeMirror.setValue(arguments[1])",
                        css,
                        sql);
    }

    private static void shot(String page) {
        try {
            Files.write(
                    SHOTS.resolve(page + ".png"),
                    ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** What the pages logged at SEVERE since the last look. */
    private static List<String> errors() {
        List<String> errors = new ArrayList<>();
        for (LogEntry entry : browser.manage().logs().get(LogType.BROWSER)) {
            if (entry.getLevel().intValue() >= Level.SEVERE.intValue()) {
                errors.add(entry.getMessage());
            }
        }
        return errors;
    }
}
