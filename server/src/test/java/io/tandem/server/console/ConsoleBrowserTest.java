package io.tandem.server.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.junit.TandemExtension;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real headless Chromium (Debian's chromium and chromium-driver; CI installs both), one browser
 * session for every step: overview, topics, a topic (live-updating as a record arrives), its messages, groups, a
 * group's lag, the znode tree down to a znode's data and Stat. Screenshots land in target/console-screenshots/; the
 * README's come from there. Skipped only when chromedriver is not installed.
 */
class ConsoleBrowserTest {
    @RegisterExtension
    static TandemExtension tandem = TandemExtension.configured(c -> c.set("console.port", "0")
            .set("offsets.topic.num.partitions", "1"));

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    private static Optional<Path> onPath(String... names) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String name : names) {
            for (String dir : path.split(File.pathSeparator)) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    @Test
    void shouldClickThroughTopicsMessagesGroupsAndZnodes() throws Exception {
        Optional<Path> chromedriver = onPath("chromedriver");
        Assumptions.assumeTrue(chromedriver.isPresent(), "chromedriver is not installed (apt-get install"
                + " chromium chromium-driver)");
        ConsoleFixture.create(tandem.tandem());
        Files.createDirectories(SCREENSHOTS);
        ChromeOptions options = new ChromeOptions();
        onPath("chromium", "chromium-browser", "google-chrome").ifPresent(p -> options.setBinary(p.toFile()));
        // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,860",
                "--hide-scrollbars");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.get().toFile()).usingAnyFreePort().build();
        WebDriver browser = new ChromeDriver(service, options);
        try {
            WebDriverWait wait = new WebDriverWait(browser, WAIT);
            // Pages re-render while polling, so an element found a moment ago may be gone: retry rather than fail.
            wait.pollingEvery(Duration.ofMillis(100)).ignoring(StaleElementReferenceException.class);
            browser.get("http://127.0.0.1:" + tandem.tandem().consolePort() + "/");

            // Overview: the broker and the ensemble member's mode.
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("ensemble"), "standalone"));
            assertEquals(1, texts(browser, "#brokers tbody tr").size());
            screenshot(browser, "overview");

            // Topics -> orders: partitions with log start, high watermark, leader and ISR.
            click(wait, By.id("nav-topics"));
            click(wait, By.linkText(ConsoleFixture.TOPIC));
            wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#partitions tbody tr"), 3));
            assertEquals(List.of("0", "5"), offsets(browser, 0));
            assertEquals(List.of("1", "3"), offsets(browser, 1));
            // Live: a record produced now shows up without any click.
            produce(ConsoleFixture.TOPIC, 2, "arrived while watching");
            wait.until(d -> offsets(d, 2).equals(List.of("0", "1")));
            screenshot(browser, "topic");

            // Its messages: keys, values, headers; the binary value as hex.
            click(wait, By.className("messages-link"));
            wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#messages tbody tr"), 5));
            String messages = text(browser, "#messages");
            assertTrue(messages.contains("key-0") && messages.contains("{\"order\":0}"), messages);
            assertTrue(messages.contains("source: web"), messages);
            assertTrue(messages.contains("000102ff"), messages);
            // The form: partition 1 from offset 0 starts at its log start, 1.
            WebElement partition = browser.findElement(By.id("browse-partition"));
            partition.clear();
            partition.sendKeys("1");
            browser.findElement(By.id("browse-offset")).sendKeys("0");
            browser.findElement(By.id("browse-submit")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("messages"), "p1-1"));
            assertEquals(2, browser.findElements(By.cssSelector("#messages tbody tr")).size());
            browser.navigate().back();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("messages"), "key-0"));
            screenshot(browser, "messages");

            // Groups -> billing: lag per partition.
            click(wait, By.id("nav-groups"));
            click(wait, By.linkText(ConsoleFixture.GROUP));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("group-lag"), "5"));
            assertEquals(List.of("3", "2"), texts(browser, "#group-partitions td.lag"));
            screenshot(browser, "group");

            // ZooKeeper: / -> app -> config: data, Stat, ACL, children.
            click(wait, By.id("nav-znodes"));
            click(wait, By.linkText("app"));
            click(wait, By.linkText("config"));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("znode-data"), "mode=faster"));
            String stat = text(browser, "#znode-stat");
            assertTrue(stat.contains("dataVersion 1") && stat.contains("numChildren 1"), stat);
            assertTrue(text(browser, "#znode-acl").contains("cdrwa"));
            assertTrue(text(browser, "#znode-children").contains("feature"));
            screenshot(browser, "znode");
        } finally {
            browser.quit();
        }
    }

    /** Log start and high watermark shown for a partition of the topic page. */
    private static List<String> offsets(WebDriver browser, int partition) {
        List<String> cells = texts(browser, "#partitions tbody tr:nth-child(" + (partition + 1) + ") td");
        return cells.size() < 7 ? List.of() : List.of(cells.get(5), cells.get(6));
    }

    /** The text of every element matching {@code css}, read in one step (a poll cannot swap them half-way). */
    @SuppressWarnings("unchecked")
    private static List<String> texts(WebDriver browser, String css) {
        return (List<String>) ((JavascriptExecutor) browser).executeScript("return Array.from("
                + "document.querySelectorAll(arguments[0])).map(e => e.innerText.trim());", css);
    }

    private static String text(WebDriver browser, String css) {
        // innerText separates table cells with tabs; getText, which people read, with spaces.
        return String.join("\n", texts(browser, css)).replaceAll("[ \\t]+", " ");
    }

    /** Clicks once the element is there, again if a poll replaced it just before the click. */
    private static void click(WebDriverWait wait, By by) {
        wait.until(d -> {
            d.findElement(by).click();
            return true;
        });
    }

    private static void produce(String topic, int partition, String value) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.tandem().bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, partition, null, value)).get();
        }
    }

    private static void screenshot(WebDriver browser, String name) throws Exception {
        File shot = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve("console-" + name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
