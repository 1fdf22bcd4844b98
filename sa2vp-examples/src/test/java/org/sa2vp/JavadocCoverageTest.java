package org.sa2vp;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks, by reading the main sources of all three modules, that every {@code public} type (top-level or nested)
 * and every builder option has a Javadoc comment. The options of a Lombok {@code @Builder} class are its instance
 * fields (Lombok gives their comments to the generated builder methods); those of a hand-written {@code Builder}
 * class are its public methods other than {@code build} and overrides.
 *
 * <p>The Javadoc build (doclint without the "missing" group) cannot see either: it fails on broken references and
 * bad HTML only, and it does not see the fields behind Lombok's generated methods at all.
 */
class JavadocCoverageTest {

    /** Also too few files means the scan looks in the wrong place (one place for the roots: ArchitectureTest). */
    static final int MIN_FILES = ArchitectureTest.MIN_FILES;

    /** {@code class|interface|enum|record|@interface Name} in code; not {@code Foo.class}. */
    private static final Pattern TYPE = Pattern.compile("(?<![\\w$.])(class|interface|enum|record)\\s+([A-Za-z_$][\\w$]*)");

    private static final Pattern PUBLIC = Pattern.compile("(?<![\\w$.@])public(?![\\w$])");
    private static final Pattern STATIC = Pattern.compile("(?<![\\w$.@])static(?![\\w$])");
    private static final Pattern BUILDER = Pattern.compile("@\\s*(lombok\\s*\\.\\s*)?Builder(?![\\w$.])");
    private static final Pattern OVERRIDE = Pattern.compile("@\\s*Override(?![\\w$])");
    /** An annotation with an optional argument list, removed from a member before it is read. */
    private static final Pattern ANNOTATION = Pattern.compile("@\\s*[\\w$.]+(\\s*\\([^()]*\\))?");
    /** The name a field declaration declares: the identifier before {@code =} or the end. */
    private static final Pattern FIELD_NAME = Pattern.compile("([A-Za-z_$][\\w$]*)\\s*(\\[\\s*\\]\\s*)*$");

    @Test
    void everyPublicTypeAndBuilderOptionHasJavadoc() throws IOException {
        Path base = Path.of("").toAbsolutePath();
        List<String> problems = new ArrayList<>();
        int files = 0;
        int types = 0;
        int options = 0;
        for (String r : ArchitectureTest.SOURCE_ROOTS) {
            List<Path> sources = ArchitectureTest.javaFiles(r);
            for (Path f : sources) {
                String rel = base.getParent().relativize(f).toString().replace('\\', '/');
                Scan scan = scan(Files.readString(f, StandardCharsets.UTF_8));
                files++;
                types += scan.publicTypes();
                options += scan.builderOptions();
                for (String missing : scan.undocumented()) {
                    problems.add(rel + ": " + missing);
                }
            }
        }
        if (files <= MIN_FILES) {
            fail("only " + files + " source files found under " + ArchitectureTest.SOURCE_ROOTS + " (expected more than "
                    + MIN_FILES + "); is the scan looking in the right place?");
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " declaration(s) without a Javadoc comment (" + files + " files, " + types
                    + " public types, " + options + " builder options):\n  " + String.join("\n  ", problems));
        }
    }

    @Test
    void scannerFindsUndocumentedPublicTypesAndBuilderOptions() {
        String source = String.join("\n",
                "package org.sa2vp.demo;",
                "",
                "import lombok.Builder;",
                "",
                "/** Documented, with an annotation whose argument holds braces and a string with a class keyword. */",
                "@SuppressWarnings({\"unchecked\", \"class Fake\"})",
                "@Builder(toBuilder = true)",
                "public final class Documented {",
                "    /** An option. */",
                "    @Builder.Default",
                "    private int documentedOption = 3;",
                "    @Builder.Default @Deprecated(since = \"0\")",
                "    private int[] undocumentedOption = new int[]{1, 2};",
                "    private static final String CONSTANT = \"; private int notAField;\";",
                "    // a line comment is not Javadoc",
                "    private Runnable undocumentedLambda = () -> { };",
                "    /* neither is a block comment */",
                "    public record UndocumentedRecord(int a) { }",
                "    /** Nested and documented. */",
                "    public enum Kind { A, B }",
                "    static Object type = Documented.class;",
                "    public void method() { int local = 0; }",
                "}",
                "",
                "/** A layer with a hand-written builder. */",
                "public class Layer {",
                "    /** Its builder. */",
                "    public static class Builder {",
                "        private int size;",
                "        /** Documented. */",
                "        public Builder documented(int v) { size = v; return this; }",
                "        public Builder undocumented(int v) { size = v; return this; }",
                "        @Override",
                "        public String toString() { return \"\" + size; }",
                "        @SuppressWarnings(\"unchecked\") public Layer build() { return new Layer(); }",
                "    }",
                "}",
                "",
                "interface PackagePrivate { }",
                "",
                "public @interface UndocumentedAnnotation { }");
        Scan scan = scan(source);
        assertEquals(List.of(
                "builder option Documented.undocumentedOption",
                "builder option Documented.undocumentedLambda",
                "public record UndocumentedRecord",
                "builder option Layer.Builder.undocumented",
                "public @interface UndocumentedAnnotation"), scan.undocumented());
        assertEquals(6, scan.publicTypes());
        assertEquals(5, scan.builderOptions());
    }

    // ------------------------------------------------------------------------------------------------
    // Scanner
    // ------------------------------------------------------------------------------------------------

    /** What one source file declares: counts, and each declaration that lacks Javadoc, in source order. */
    record Scan(int publicTypes, int builderOptions, List<String> undocumented) {
    }

    /**
     * A source with comments and literals blanked out, same length, so offsets match the original, plus where its
     * Javadoc comments end. A declaration is documented when a Javadoc comment ends between the previous boundary
     * ({@code ;}, <code>{</code> or <code>}</code> outside parentheses) and its first code character.
     */
    static Scan scan(String source) {
        char[] code = source.toCharArray();
        List<int[]> javadocs = blank(code);
        String text = new String(code);
        List<String> undocumented = new ArrayList<>();
        int publicTypes = 0;
        int builderOptions = 0;
        Matcher m = TYPE.matcher(text);
        while (m.find()) {
            int start = declarationStart(text, m.start());
            String header = text.substring(start, m.start());
            String kind = m.group(1);
            if (kind.equals("interface") && header.trim().endsWith("@")) {
                header = header.substring(0, header.lastIndexOf('@'));
                kind = "@interface";
            }
            boolean documented = documented(text, javadocs, start);
            if (PUBLIC.matcher(header).find()) {
                publicTypes++;
                if (!documented) {
                    undocumented.add("public " + kind + " " + m.group(2));
                }
            }
            int open = text.indexOf('{', m.end());
            if (BUILDER.matcher(header).find() && open >= 0 && kind.equals("class")) {
                for (int[] field : instanceFields(text, open)) {
                    builderOptions++;
                    if (!documented(text, javadocs, field[0])) {
                        undocumented.add("builder option " + m.group(2) + "." + text.substring(field[1], field[2]));
                    }
                }
            }
            if (m.group(2).equals("Builder") && open >= 0 && kind.equals("class")) {
                for (Object[] method : builderMethods(text, open)) {
                    builderOptions++;
                    if (!documented(text, javadocs, (int) method[0])) {
                        undocumented.add("builder option " + enclosingType(text, start) + "Builder." + method[1]);
                    }
                }
            }
        }
        return new Scan(publicTypes, builderOptions, undocumented);
    }

    /** "Outer." for a type declared inside the type {@code Outer} (by the nearest enclosing declaration), else "". */
    private static String enclosingType(String code, int declarationStart) {
        int depth = 0;
        for (int i = declarationStart - 1; i >= 0; i--) {
            char c = code.charAt(i);
            if (c == '}') {
                depth++;
            } else if (c == '{') {
                if (depth == 0) {
                    Matcher outer = TYPE.matcher(code.substring(declarationStart(code, i), i));
                    String name = "";
                    while (outer.find()) {
                        name = outer.group(2) + ".";
                    }
                    return name;
                }
                depth--;
            }
        }
        return "";
    }

    /** After the last {@code ;}, <code>{</code> or <code>}</code> before {@code from} outside parentheses. */
    private static int declarationStart(String code, int from) {
        int parens = 0;
        for (int i = from - 1; i >= 0; i--) {
            char c = code.charAt(i);
            if (c == ')') {
                parens++;
            } else if (c == '(') {
                parens--;
            } else if (parens == 0 && (c == ';' || c == '{' || c == '}')) {
                return i + 1;
            }
        }
        return 0;
    }

    /** Whether a Javadoc comment ends inside the blank stretch before the declaration's first code character. */
    private static boolean documented(String code, List<int[]> javadocs, int start) {
        int first = start;
        while (first < code.length() && Character.isWhitespace(code.charAt(first))) {
            first++;
        }
        for (int[] doc : javadocs) {
            if (doc[0] >= start && doc[1] <= first) {
                return true;
            }
        }
        return false;
    }

    /**
     * The members declared directly in the body that opens at {@code open}, in order: fields (and other
     * declarations ending in {@code ;}) and blocks (methods, nested types, initializers). A member is read up to a
     * {@code ;} or a closed block at body level; a block after an {@code =} is part of an initializer (an array or
     * a lambda), not a method body.
     */
    private static List<Member> members(String code, int open) {
        List<Member> members = new ArrayList<>();
        int i = open + 1;
        int memberStart = i;
        int blockStart = -1;
        int parens = 0;
        int braces = 0;
        boolean initializer = false;
        while (i < code.length()) {
            char c = code.charAt(i);
            if (c == '(') {
                parens++;
            } else if (c == ')') {
                parens--;
            } else if (parens == 0 && c == '{') {
                if (braces == 0 && !initializer) {
                    if (withoutAnnotations(code.substring(memberStart, i)).contains("=")) {
                        initializer = true;
                    } else {
                        blockStart = i;
                    }
                }
                braces++;
            } else if (parens == 0 && c == '}') {
                if (braces == 0) {
                    return members; // the body's closing brace
                }
                braces--;
                if (braces == 0 && !initializer) {
                    members.add(new Member(memberStart, code.substring(memberStart, blockStart), true));
                    memberStart = i + 1;
                }
            } else if (parens == 0 && braces == 0 && c == ';') {
                members.add(new Member(memberStart, code.substring(memberStart, i), false));
                memberStart = i + 1;
                initializer = false;
            }
            i++;
        }
        return members;
    }

    /** One member: where it starts, its text up to its {@code ;} or its block's opening brace, and which. */
    record Member(int start, String header, boolean block) {
    }

    /** The instance fields of a body: each as {declaration start, name start, name end}. */
    private static List<int[]> instanceFields(String code, int open) {
        List<int[]> fields = new ArrayList<>();
        for (Member m : members(code, open)) {
            String member = withoutAnnotations(m.header());
            int eq = member.indexOf('=');
            String declaration = eq < 0 ? member : member.substring(0, eq);
            if (m.block() || declaration.contains("(") || STATIC.matcher(declaration).find() || declaration.isBlank()) {
                continue;
            }
            Matcher name = FIELD_NAME.matcher(declaration.stripTrailing());
            if (name.find()) {
                fields.add(new int[]{m.start(), m.start() + name.start(1), m.start() + name.end(1)});
            }
        }
        return fields;
    }

    /**
     * The options of a hand-written builder: its public methods with a body, other than {@code build} and
     * overrides, each as {declaration start, name}.
     */
    private static List<Object[]> builderMethods(String code, int open) {
        List<Object[]> methods = new ArrayList<>();
        for (Member m : members(code, open)) {
            String header = withoutAnnotations(m.header());
            int paren = header.indexOf('(');
            if (!m.block() || paren < 0 || !PUBLIC.matcher(header).find() || OVERRIDE.matcher(m.header()).find()) {
                continue;
            }
            Matcher name = FIELD_NAME.matcher(header.substring(0, paren).stripTrailing());
            if (name.find() && !name.group(1).equals("build")) {
                methods.add(new Object[]{m.start(), name.group(1)});
            }
        }
        return methods;
    }

    /** The text with each annotation replaced by as many spaces, so offsets still match. */
    private static String withoutAnnotations(String member) {
        Matcher m = ANNOTATION.matcher(member);
        StringBuilder out = new StringBuilder(member);
        while (m.find()) {
            for (int k = m.start(); k < m.end(); k++) {
                out.setCharAt(k, ' ');
            }
        }
        return out.toString();
    }

    /**
     * Replaces comments and the contents of string, text-block and char literals by spaces in place (newlines
     * kept) and returns each Javadoc comment's {start, end} offsets.
     */
    static List<int[]> blank(char[] s) {
        List<int[]> javadocs = new ArrayList<>();
        int n = s.length;
        int i = 0;
        while (i < n) {
            char c = s[i];
            char next = i + 1 < n ? s[i + 1] : '\0';
            if (c == '/' && next == '/') {
                while (i < n && s[i] != '\n') {
                    s[i++] = ' ';
                }
            } else if (c == '/' && next == '*') {
                int start = i;
                boolean javadoc = i + 2 < n && s[i + 2] == '*' && !(i + 3 < n && s[i + 3] == '/');
                int end = i + 2;
                while (end < n && !(s[end] == '*' && end + 1 < n && s[end + 1] == '/')) {
                    end++;
                }
                end = Math.min(n, end + 2);
                spaces(s, start, end);
                if (javadoc) {
                    javadocs.add(new int[]{start, end});
                }
                i = end;
            } else if (c == '"' && i + 2 < n && s[i + 1] == '"' && s[i + 2] == '"') {
                int end = i + 3;
                while (end < n && !(s[end] == '"' && end + 2 < n && s[end + 1] == '"' && s[end + 2] == '"')) {
                    end += s[end] == '\\' ? 2 : 1;
                }
                spaces(s, i + 3, Math.min(n, end));
                i = Math.min(n, end + 3);
            } else if (c == '"' || c == '\'') {
                int end = i + 1;
                while (end < n && s[end] != c && s[end] != '\n') {
                    end += s[end] == '\\' ? 2 : 1;
                }
                spaces(s, i + 1, Math.min(n, end));
                i = Math.min(n, end + 1);
            } else {
                i++;
            }
        }
        return javadocs;
    }

    private static void spaces(char[] s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s[i] != '\n') {
                s[i] = ' ';
            }
        }
    }
}
