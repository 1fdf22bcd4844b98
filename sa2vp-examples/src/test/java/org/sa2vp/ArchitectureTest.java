package org.sa2vp;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Enforces the package layering of all three modules by reading their main sources.
 *
 * <p>A package may depend only on packages of a lower rank and on itself; packages that share a rank
 * must not depend on each other, so the package graph has no cycles. A file's dependencies are its
 * {@code import} / {@code import static} lines naming {@code org.sa2vp.*} and the fully-qualified
 * {@code org.sa2vp.<pkg>.<Class>} references in its code (comments and string literals removed first).
 */
class ArchitectureTest {

    /**
     * The layering, bottom (rank 0) to top; one inner list per rank. docs/ARCHITECTURE.md states the same
     * order: change both together.
     */
    static final List<List<String>> LAYERS = List.of(
            List.of("org.sa2vp.config", "org.sa2vp.io"),          // 0  JSON, field errors, registry base; pickles, MAT-files
            List.of("org.sa2vp.layers.runtime"),                  // 1  kernels and the DL4J runtime glue
            List.of("org.sa2vp.layers"),                          // 2  SA2VP layers, layer/vertex base classes
            List.of("org.sa2vp.backbone.weights"),                // 3  checkpoint formats, weight-name tables
            List.of("org.sa2vp.backbone.weights.keras"),          // 4  Keras-import layers
            List.of("org.sa2vp.backbone"),                        // 5  Backbone, its registry, BackboneLayer
            List.of("org.sa2vp.backbone.vit", "org.sa2vp.backbone.swin"), // 6  the backbone families (siblings)
            List.of("org.sa2vp.backbone.swin.keras"),       // 7  Keras-import layers of the Swin family
            List.of("org.sa2vp.data"),                            // 8  image sets and readers
            List.of("org.sa2vp.method"),                          // 9  TuningMethod and the method registry
            List.of("org.sa2vp.model", "org.sa2vp.baseline"),     // 10 SA2VP; the baselines (siblings)
            List.of("org.sa2vp.train"),                           // 11 Trainer, recipe, evaluation, metrics
            List.of("org.sa2vp.zoo"),                             // 12
            List.of("org.sa2vp.zoo.benchmark"),                   // 13 the benchmark registry, data, recipes, results
            List.of("org.sa2vp.zoo.minivtab"),                    // 14 mini-VTAB, registered as benchmarks
            List.of("org.sa2vp.examples", "org.sa2vp.examples.bench"), // 15
            List.of("org.sa2vp.cli"));                            // 16

    /** Main source roots, relative to the sa2vp-examples module directory (surefire's working directory). */
    static final List<String> SOURCE_ROOTS = List.of(
            "../sa2vp-layers/src/main/java",
            "../sa2vp-zoo/src/main/java",
            "src/main/java");

    static final int MIN_FILES = 100;

    private static final String PREFIX = "org.sa2vp.";

    /** {@code import [static] name;} on comment- and string-stripped text; name may span whitespace. */
    private static final Pattern IMPORT = Pattern.compile(
            "(?<![\\w$.])import\\s+(static\\s+)?([\\w$.*\\s]+?)\\s*;");

    /** {@code package name;} on comment-stripped text. */
    private static final Pattern PACKAGE = Pattern.compile("(?<![\\w$.])package\\s+([\\w$.\\s]+?)\\s*;");

    /** {@code org.sa2vp.<lowercase segments>.<Capitalised>} in code, tolerating whitespace around dots. */
    private static final Pattern QUALIFIED = Pattern.compile(
            "(?<![\\w$.])org\\s*\\.\\s*sa2vp((?:\\s*\\.\\s*[a-z_][\\w$]*)+)\\s*\\.\\s*([A-Z][\\w$]*)");

    // ------------------------------------------------------------------------------------------------
    // Tests
    // ------------------------------------------------------------------------------------------------

    /**
     * The {@code .java} files (without {@code module-info.java}) below the main source root {@code root} of
     * {@link #SOURCE_ROOTS}, sorted; fails when the root is missing (the tests run in sa2vp-examples).
     */
    static List<Path> javaFiles(String root) throws IOException {
        Path base = Path.of("").toAbsolutePath();
        Path dir = base.resolve(root).normalize();
        if (!Files.isDirectory(dir)) {
            fail("source root " + dir + " does not exist (resolved '" + root + "' against working directory "
                    + base + "; this test expects to run with sa2vp-examples as working directory)");
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !p.getFileName().toString().equals("module-info.java"))
                    .sorted().collect(Collectors.toList());
        }
    }

    @Test
    void packagesFollowTheLayering() throws IOException {
        Map<String, Integer> rank = ranks();
        Path base = Path.of("").toAbsolutePath();

        // relative path (org/sa2vp/...) -> source, over all roots
        Map<String, String> sources = new TreeMap<>();
        Map<String, Path> fileRoots = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (String r : SOURCE_ROOTS) {
            Path root = base.resolve(r).normalize();
            List<Path> files = javaFiles(r);
            if (files.isEmpty()) {
                problems.add("source root " + root + " has no .java files");
            }
            for (Path f : files) {
                String rel = root.relativize(f).toString().replace('\\', '/');
                if (sources.containsKey(rel)) {
                    problems.add(rel + " exists in both " + fileRoots.get(rel) + " and " + root);
                    continue;
                }
                sources.put(rel, Files.readString(f, StandardCharsets.UTF_8));
                fileRoots.put(rel, root);
            }
        }

        // 3. non-trivial scan: enough files, and every ranked package whose folder exists has a file
        if (sources.size() <= MIN_FILES) {
            problems.add("only " + sources.size() + " source files found under " + SOURCE_ROOTS
                    + " (expected more than " + MIN_FILES + "); is the scan looking in the right place?");
        }
        Map<String, Integer> filesPerPackage = new TreeMap<>();
        for (String rel : sources.keySet()) {
            int slash = rel.lastIndexOf('/');
            filesPerPackage.merge(slash < 0 ? "" : rel.substring(0, slash).replace('/', '.'), 1, Integer::sum);
        }
        for (String pkg : rank.keySet()) {
            for (String r : SOURCE_ROOTS) {
                Path dir = base.resolve(r).normalize().resolve(pkg.replace('.', '/'));
                if (Files.isDirectory(dir) && !filesPerPackage.containsKey(pkg)) {
                    problems.add("ranked package " + pkg + " has a folder " + dir + " but no .java file in it");
                }
            }
        }

        // 1. every package has a rank; 2. every dependency points strictly down
        Set<String> unranked = new TreeSet<>();
        List<String> violations = new ArrayList<>();
        for (Map.Entry<String, String> e : sources.entrySet()) {
            violations.addAll(checkFile(e.getKey(), e.getValue(), rank, unranked));
        }
        for (String pkg : unranked) {
            problems.add("package " + pkg + " is not in the layering; add it to ArchitectureTest and docs/ARCHITECTURE.md");
        }
        problems.addAll(violations);

        if (!problems.isEmpty()) {
            fail(problems.size() + " architecture problem(s) in " + sources.size() + " files ("
                    + violations.size() + " layering violation(s)):\n  " + String.join("\n  ", problems));
        }
    }

    @Test
    void parserFindsImportsAndCodeReferencesButNotCommentsOrStrings() {
        String source = String.join("\n",
                "// org.sa2vp.zoo.LineComment",
                "package org.sa2vp.train;",
                "",
                "import java.util.List;",
                "import org.sa2vp.cli.Main;",
                "import static org.sa2vp.backbone.weights.TensorLayout.Inner.CONST;",
                "import org.sa2vp.data.*;",
                "import org.sa2vp.layers.runtime.Kernels.Nested;",
                "",
                "/**",
                " * Uses {@link org.sa2vp.zoo.minivtab.MiniVtab} and {@link org.sa2vp.examples.bench.Bench#run}.",
                " */",
                "class Foo { // org.sa2vp.zoo.Trailing",
                "    String s = \"org.sa2vp.method.InString \\\" org.sa2vp.method.AfterEscape\";",
                "    char q = '\"'; // a quote char must not open a string",
                "    Object o = new org.sa2vp.model.Sa2vp( /* org.sa2vp.method.Block */ );",
                "    String t = \"\"\"",
                "        org.sa2vp.method.InTextBlock \"\"\";",
                "    Object p = org.sa2vp.baseline .Linear.Head.make();",
                "}");

        String stripped = stripCommentsAndStrings(source);
        assertEquals(source.split("\n", -1).length, stripped.split("\n", -1).length,
                "stripping must keep line structure");
        assertEquals("org.sa2vp.train", declaredPackage(stripped));

        List<Dependency> deps = dependencies(source);
        Set<String> targets = deps.stream().map(Dependency::target).collect(Collectors.toCollection(LinkedHashSet::new));
        assertEquals(Set.of(
                        "org.sa2vp.cli.Main",
                        "org.sa2vp.backbone.weights.TensorLayout.Inner.CONST",
                        "org.sa2vp.data.*",
                        "org.sa2vp.layers.runtime.Kernels.Nested",
                        "org.sa2vp.model.Sa2vp",
                        "org.sa2vp.baseline.Linear"),
                targets);
        Set<String> packages = deps.stream().map(Dependency::pkg).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(Set.of(
                        "org.sa2vp.cli",
                        "org.sa2vp.backbone.weights",
                        "org.sa2vp.data",
                        "org.sa2vp.layers.runtime",
                        "org.sa2vp.model",
                        "org.sa2vp.baseline")),
                packages);

        // The checker reports the upward import, and only that (model and baseline share rank 10 < 11).
        Set<String> unranked = new TreeSet<>();
        List<String> violations = checkFile("org/sa2vp/train/Foo.java", source, ranks(), unranked);
        assertEquals(List.of("org/sa2vp/train/Foo.java (org.sa2vp.train, rank 11) imports org.sa2vp.cli.Main (rank 16)"),
                violations);
        assertTrue(unranked.isEmpty(), () -> "unexpected unranked packages " + unranked);

        // Same-rank siblings may not depend on each other; unknown packages are collected.
        List<String> sibling = checkFile("org/sa2vp/model/M.java",
                "package org.sa2vp.model; class M { org.sa2vp.baseline.B b; org.sa2vp.nowhere.X x; }",
                ranks(), unranked);
        assertEquals(List.of("org/sa2vp/model/M.java (org.sa2vp.model, rank 10) references org.sa2vp.baseline.B"
                + " (rank 10, same rank as org.sa2vp.model)"), sibling);
        assertEquals(Set.of("org.sa2vp.nowhere"), unranked);
    }

    @Test
    void layeringTableListsEachPackageOnce() {
        List<String> all = LAYERS.stream().flatMap(List::stream).collect(Collectors.toList());
        assertEquals(all.size(), new TreeSet<>(all).size(), () -> "duplicate package in LAYERS: " + all);
        assertTrue(all.stream().allMatch(p -> p.startsWith(PREFIX)), () -> "LAYERS holds a non-org.sa2vp package: " + all);
    }

    // ------------------------------------------------------------------------------------------------
    // Checker
    // ------------------------------------------------------------------------------------------------

    static Map<String, Integer> ranks() {
        Map<String, Integer> rank = new HashMap<>();
        for (int i = 0; i < LAYERS.size(); i++) {
            for (String p : LAYERS.get(i)) {
                rank.put(p, i);
            }
        }
        return rank;
    }

    /**
     * Layering violations of one file; packages without a rank (the file's own or a dependency's) are added
     * to {@code unranked} instead.
     */
    static List<String> checkFile(String relPath, String source, Map<String, Integer> rank, Set<String> unranked) {
        List<String> out = new ArrayList<>();
        String stripped = stripCommentsAndStrings(source);
        String pkg = declaredPackage(stripped);
        int slash = relPath.lastIndexOf('/');
        String folderPkg = slash < 0 ? "" : relPath.substring(0, slash).replace('/', '.');
        if (pkg == null) {
            out.add(relPath + " has no package declaration");
            return out;
        }
        if (!pkg.equals(folderPkg)) {
            out.add(relPath + " declares package " + pkg + " but lives in folder " + folderPkg.replace('.', '/'));
        }
        Integer own = rank.get(pkg);
        if (own == null) {
            unranked.add(pkg);
        }
        for (Dependency d : dependencies(source)) {
            if (d.pkg().equals(pkg)) {
                continue;
            }
            Integer to = rank.get(d.pkg());
            if (to == null) {
                unranked.add(d.pkg());
                continue;
            }
            if (own == null) {
                continue;
            }
            if (to > own) {
                out.add(String.format("%s (%s, rank %d) %s %s (rank %d)",
                        relPath, pkg, own, d.verb(), d.target(), to));
            } else if (to.equals(own)) {
                out.add(String.format("%s (%s, rank %d) %s %s (rank %d, same rank as %s)",
                        relPath, pkg, own, d.verb(), d.target(), to, pkg));
            }
        }
        return out;
    }

    /** One org.sa2vp dependency: what the source names, and the package that name lives in. */
    record Dependency(String target, String pkg, boolean imported) {
        String verb() {
            return imported ? "imports" : "references";
        }
    }

    /** The org.sa2vp dependencies of a source file: imports first, then qualified names in code; no duplicates. */
    static List<Dependency> dependencies(String source) {
        String stripped = stripCommentsAndStrings(source);
        Map<String, Dependency> found = new LinkedHashMap<>();

        StringBuilder code = new StringBuilder(stripped);
        Matcher m = IMPORT.matcher(stripped);
        while (m.find()) {
            String name = m.group(2).replaceAll("\\s+", "");
            if (name.startsWith(PREFIX)) {
                found.putIfAbsent(name, new Dependency(name, packageOf(name), true));
            }
            blank(code, m.start(), m.end());
        }
        Matcher p = PACKAGE.matcher(stripped);
        if (p.find()) {
            blank(code, p.start(), p.end());
        }

        Matcher q = QUALIFIED.matcher(code);
        while (q.find()) {
            String name = "org.sa2vp" + q.group(1).replaceAll("\\s+", "") + "." + q.group(2);
            found.putIfAbsent(name, new Dependency(name, packageOf(name), false));
        }
        return new ArrayList<>(found.values());
    }

    /** The package of a qualified name: the segments before the first capitalised one, without a trailing '*'. */
    static String packageOf(String qualifiedName) {
        String[] parts = qualifiedName.split("\\.");
        StringBuilder pkg = new StringBuilder();
        for (String part : parts) {
            if (part.equals("*") || (!part.isEmpty() && Character.isUpperCase(part.charAt(0)))) {
                break;
            }
            if (pkg.length() > 0) {
                pkg.append('.');
            }
            pkg.append(part);
        }
        return pkg.toString();
    }

    static String declaredPackage(String stripped) {
        Matcher m = PACKAGE.matcher(stripped);
        return m.find() ? m.group(1).replaceAll("\\s+", "") : null;
    }

    private static void blank(StringBuilder sb, int from, int to) {
        for (int i = from; i < to; i++) {
            if (sb.charAt(i) != '\n') {
                sb.setCharAt(i, ' ');
            }
        }
    }

    /**
     * Replaces comments (line, block, Javadoc) by spaces and the contents of string, text-block and char
     * literals by nothing, keeping every newline so the line structure survives.
     */
    static String stripCommentsAndStrings(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int n = src.length();
        int i = 0;
        while (i < n) {
            char c = src.charAt(i);
            char next = i + 1 < n ? src.charAt(i + 1) : '\0';
            if (c == '/' && next == '/') {
                while (i < n && src.charAt(i) != '\n') {
                    i++;
                }
                out.append(' ');
            } else if (c == '/' && next == '*') {
                i += 2;
                out.append(' ');
                while (i < n && !(src.charAt(i) == '*' && i + 1 < n && src.charAt(i + 1) == '/')) {
                    if (src.charAt(i) == '\n') {
                        out.append('\n');
                    }
                    i++;
                }
                i = Math.min(n, i + 2);
            } else if (c == '"' && src.startsWith("\"\"\"", i)) {
                i += 3;
                out.append("\"\"");
                while (i < n && !src.startsWith("\"\"\"", i)) {
                    char t = src.charAt(i);
                    if (t == '\\') {
                        i++;
                    } else if (t == '\n') {
                        out.append('\n');
                    }
                    i++;
                }
                i = Math.min(n, i + 3);
            } else if (c == '"' || c == '\'') {
                i++;
                out.append(c).append(c);
                while (i < n && src.charAt(i) != c && src.charAt(i) != '\n') {
                    if (src.charAt(i) == '\\') {
                        i++;
                    }
                    i++;
                }
                if (i < n && src.charAt(i) == c) {
                    i++; // the closing quote; an unterminated literal keeps its newline
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
