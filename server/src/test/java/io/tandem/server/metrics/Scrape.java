package io.tandem.server.metrics;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of a Prometheus endpoint, parsed: series (name plus labels) to value. */
record Scrape(String contentType, String text, Map<String, Double> series) {
    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})?\\s+(\\S+).*$");

    static Scrape of(int port) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) throw new AssertionError("scrape answered " + response.statusCode());
        Map<String, Double> series = new LinkedHashMap<>();
        for (String line : response.body().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            Matcher m = LINE.matcher(line);
            if (!m.matches()) throw new AssertionError("not a Prometheus sample line: " + line);
            series.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
        }
        return new Scrape(response.headers().firstValue("Content-Type").orElse(""), response.body(), series);
    }

    /** The sum of every series of {@code name} whose labels include each of {@code labels} ("k=\"v\""). */
    double value(String name, String... labels) {
        double sum = 0;
        boolean found = false;
        for (Map.Entry<String, Double> entry : series.entrySet()) {
            String key = entry.getKey();
            if (!(key.equals(name) || key.startsWith(name + "{"))) continue;
            boolean all = true;
            for (String label : labels) all &= key.contains(label);
            if (all) {
                sum += entry.getValue();
                found = true;
            }
        }
        if (!found) throw new AssertionError("no series " + name + " " + String.join(",", labels) + " in:\n" + text);
        return sum;
    }

    boolean has(String name, String... labels) {
        try {
            value(name, labels);
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }
}
