package org.sa2vp.zoo.minivtab;

import org.sa2vp.method.TuningMethods;
import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.Charts;
import org.sa2vp.zoo.benchmark.SeedSummary;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The mini-VTAB results: {@code results.csv} (one row per run, rewritten atomically after each, so an interrupted
 * benchmark resumes where it stopped), a markdown table and a PNG bar chart of test accuracy, mean ± standard
 * deviation over seeds, per task, per VTAB group and over all tasks.
 *
 * <p>A group's (or the overall) value for one seed is the mean over its tasks' accuracies for that seed; the table
 * gives the mean ± sample standard deviation of those per-seed means.
 */
public final class MiniVtabReport {

    /** The row of the mean over all tasks. */
    public static final String OVERALL = "All tasks (mean)";

    private static final String HEADER =
            "task,group,method,seed,lr,accuracy,correct,count,trainable_parameters,seconds";
    /** The layout before the learning rate was recorded: every run used its method's fixed recipe. */
    private static final String HEADER_FIXED_RECIPE =
            "task,group,method,seed,accuracy,correct,count,trainable_parameters,seconds";
    private static final Color[] PALETTE = {new Color(127, 127, 127), new Color(174, 199, 232),
            new Color(31, 119, 180), new Color(255, 187, 120), new Color(214, 39, 40)};

    private MiniVtabReport() {
    }

    public static void writeCsv(Path file, List<MiniVtabBenchmark.Result> results) {
        StringBuilder csv = new StringBuilder(HEADER).append('\n');
        for (MiniVtabBenchmark.Result r : results) {
            csv.append(String.format(Locale.ROOT, "%s,%s,%s,%d,%s,%.6f,%d,%d,%d,%.1f%n", r.task().folderName(),
                    r.task().group(), r.method(), r.seed(), learningRate(r.learningRate()), r.accuracy(),
                    r.correct(), r.count(), r.trainableParameters(), r.seconds()));
        }
        AtomicFiles.writeString(file, csv.toString());
    }

    /** The rows of a {@link #writeCsv} file (or of one written before the learning rate was); none if absent. */
    public static List<MiniVtabBenchmark.Result> readCsv(Path file) {
        try {
            return parseCsv(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
        } catch (NoSuchFileException e) {
            return new ArrayList<>();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** The rows of the lines of a {@link #writeCsv} file; {@code file} names it in errors. */
    static List<MiniVtabBenchmark.Result> parseCsv(List<String> lines, String file) {
        List<MiniVtabBenchmark.Result> out = new ArrayList<>();
        boolean fixedRecipe = !lines.isEmpty() && lines.get(0).equals(HEADER_FIXED_RECIPE);
        if (lines.isEmpty() || !(fixedRecipe || lines.get(0).equals(HEADER))) {
            throw new IllegalArgumentException(file + ": not a mini-VTAB results file (expected the header '" + HEADER
                    + "')");
        }
        int fields = fixedRecipe ? 9 : 10;
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            if (f.length != fields) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": expected " + fields + " fields, got "
                        + f.length);
            }
            String method = TuningMethods.canonicalName(f[2]);
            long seed = Long.parseLong(f[3]);
            // Old rows: insert the recipe's rate where the new layout has its column.
            int k = fixedRecipe ? 4 : 5;
            double lr = fixedRecipe ? MiniVtabBenchmark.recipe(method, seed, MiniVtabBenchmark.EPOCHS)
                    .getLearningRate() : Double.parseDouble(f[4]);
            out.add(new MiniVtabBenchmark.Result(MiniVtab.Task.fromFolderName(f[0]), method, seed, lr,
                    Double.parseDouble(f[k]), Integer.parseInt(f[k + 1]), Integer.parseInt(f[k + 2]),
                    Long.parseLong(f[k + 3]), Double.parseDouble(f[k + 4])));
        }
        return out;
    }

    /**
     * Rows: tasks (grouped), then each group's mean and the mean over all tasks; columns: methods in
     * {@code methods} order. Cells are test accuracy in %, mean ± std over seeds.
     */
    public static Map<String, Map<String, SeedSummary>> table(List<MiniVtabBenchmark.Result> results, List<String> methods,
                                                          List<MiniVtab.Task> tasks) {
        Map<String, Map<String, SeedSummary>> rows = new LinkedHashMap<>();
        for (MiniVtab.Task task : tasks) {
            Map<String, SeedSummary> row = new LinkedHashMap<>();
            for (String m : methods) {
                List<Double> values = results.stream().filter(r -> r.task() == task && r.method().equals(m))
                        .map(MiniVtabBenchmark.Result::accuracy).toList();
                if (!values.isEmpty()) {
                    row.put(m, SeedSummary.of(values));
                }
            }
            rows.put(task.folderName(), row);
        }
        for (MiniVtab.Group group : MiniVtab.Group.values()) {
            List<MiniVtab.Task> members = tasks.stream().filter(t -> t.group() == group).toList();
            if (!members.isEmpty()) {
                rows.put(label(group), aggregate(results, methods, members));
            }
        }
        rows.put(OVERALL, aggregate(results, methods, tasks));
        return rows;
    }

    static String label(MiniVtab.Group group) {
        String name = group.name().toLowerCase(Locale.ROOT);
        return Character.toUpperCase(name.charAt(0)) + name.substring(1) + " (mean)";
    }

    /** Per seed, the mean over {@code tasks}; only seeds that ran every task count. */
    private static Map<String, SeedSummary> aggregate(List<MiniVtabBenchmark.Result> results, List<String> methods,
                                                  List<MiniVtab.Task> tasks) {
        Map<String, SeedSummary> row = new LinkedHashMap<>();
        for (String m : methods) {
            Map<Long, List<Double>> bySeed = new TreeMap<>();
            for (MiniVtabBenchmark.Result r : results) {
                if (r.method().equals(m) && tasks.contains(r.task())) {
                    bySeed.computeIfAbsent(r.seed(), k -> new ArrayList<>()).add(r.accuracy());
                }
            }
            List<Double> means = bySeed.values().stream().filter(v -> v.size() == tasks.size())
                    .map(v -> v.stream().mapToDouble(Double::doubleValue).average().orElseThrow()).toList();
            if (!means.isEmpty()) {
                row.put(m, SeedSummary.of(means));
            }
        }
        return row;
    }

    /** A learning rate as the tables print it: the sweep's six digits without trailing zeros (0.03, 0.0005); also names
     * the runs' folders ({@code lr-0.03}). */
    public static String learningRate(double lr) {
        return new java.math.BigDecimal(MiniVtabSweep.rate(lr)).stripTrailingZeros().toPlainString();
    }

    /**
     * Markdown: the learning rate each method trained with on each task (several, comma-separated, if its seeds
     * differ); a table that used each method's fixed recipe has one value per column.
     */
    public static String learningRates(List<MiniVtabBenchmark.Result> results, List<String> methods,
                                       List<MiniVtab.Task> tasks) {
        StringBuilder md = new StringBuilder("| task |");
        for (String m : methods) {
            md.append(' ').append(m).append(" |");
        }
        md.append("\n|---|").append("---|".repeat(methods.size())).append('\n');
        for (MiniVtab.Task task : tasks) {
            md.append("| ").append(task.folderName()).append(" |");
            for (String m : methods) {
                List<String> lrs = results.stream().filter(r -> r.task() == task && r.method().equals(m))
                        .map(MiniVtabBenchmark.Result::learningRate).distinct().sorted()
                        .map(MiniVtabReport::learningRate).toList();
                md.append(' ').append(lrs.isEmpty() ? "–" : String.join(", ", lrs)).append(" |");
            }
            md.append('\n');
        }
        return md.toString();
    }

    /** The table as markdown, with the best mean of each row in bold. */
    public static String markdown(Map<String, Map<String, SeedSummary>> table, List<String> methods) {
        StringBuilder md = new StringBuilder("| task |");
        for (String m : methods) {
            md.append(' ').append(m).append(" |");
        }
        md.append("\n|---|");
        md.append("---|".repeat(methods.size())).append('\n');
        for (Map.Entry<String, Map<String, SeedSummary>> row : table.entrySet()) {
            boolean aggregate = row.getKey().contains("(mean");
            md.append("| ").append(aggregate ? "**" + row.getKey() + "**" : row.getKey()).append(" |");
            double best = row.getValue().values().stream().mapToDouble(SeedSummary::mean).max().orElse(Double.NaN);
            for (String m : methods) {
                SeedSummary s = row.getValue().get(m);
                String cell = s == null ? "–" : s.percent();
                md.append(' ').append(s != null && s.mean() == best ? "**" + cell + "**" : cell).append(" |");
            }
            md.append('\n');
        }
        return md.toString();
    }

    /** Grouped bars (one colour per method) with ±std whiskers for every row of the table. */
    public static void writeBarChart(Path file, Map<String, Map<String, SeedSummary>> table, List<String> methods,
                                     String title) {
        int rowWidth = 30 + 22 * methods.size();
        int left = 70, right = 110, top = 60, bottom = 150;
        int width = Math.max(900, left + right + rowWidth * table.size()), height = 560;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Charts.canvas(image, title, 16, 24);
        try {
            int plotHeight = height - top - bottom;
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics fm = g.getFontMetrics();
            for (int tick = 0; tick <= 100; tick += 20) {
                int y = top + plotHeight - tick * plotHeight / 100;
                g.setColor(new Color(225, 225, 225));
                g.drawLine(left, y, width - right, y);
                g.setColor(Color.BLACK);
                String label = tick + "%";
                g.drawString(label, left - 8 - fm.stringWidth(label), y + 4);
            }
            g.drawLine(left, top, left, top + plotHeight);
            g.drawLine(left, top + plotHeight, width - right, top + plotHeight);
            int x = left + 15;
            for (Map.Entry<String, Map<String, SeedSummary>> row : table.entrySet()) {
                for (int k = 0; k < methods.size(); k++) {
                    SeedSummary s = row.getValue().get(methods.get(k));
                    if (s == null) {
                        continue;
                    }
                    int barX = x + 22 * k;
                    int barTop = top + plotHeight - (int) Math.round(s.mean() * plotHeight);
                    g.setColor(PALETTE[k % PALETTE.length]);
                    g.fillRect(barX, barTop, 18, top + plotHeight - barTop);
                    g.setColor(Color.BLACK);
                    g.setStroke(new BasicStroke(1.2f));
                    int hi = top + plotHeight - (int) Math.round(Math.min(1, s.mean() + s.std()) * plotHeight);
                    int lo = top + plotHeight - (int) Math.round(Math.max(0, s.mean() - s.std()) * plotHeight);
                    g.drawLine(barX + 9, hi, barX + 9, lo);
                    g.drawLine(barX + 5, hi, barX + 13, hi);
                    g.drawLine(barX + 5, lo, barX + 13, lo);
                }
                Graphics2D rotated = (Graphics2D) g.create();
                rotated.setFont(new Font(Font.SANS_SERIF, row.getKey().contains("(mean") ? Font.BOLD : Font.PLAIN,
                        12));
                rotated.translate(x + rowWidth / 2 - 10, top + plotHeight + 12);
                rotated.rotate(Math.toRadians(30));
                rotated.drawString(row.getKey(), 0, 0);
                rotated.dispose();
                x += rowWidth;
            }
            int legendX = left + 10;
            for (int k = 0; k < methods.size(); k++) {
                g.setColor(PALETTE[k % PALETTE.length]);
                g.fillRect(legendX, 38, 14, 12);
                g.setColor(Color.BLACK);
                g.drawString(methods.get(k), legendX + 18, 49);
                legendX += 28 + fm.stringWidth(methods.get(k));
            }
        } finally {
            g.dispose();
        }
        Charts.writePng(file, image);
    }
}
