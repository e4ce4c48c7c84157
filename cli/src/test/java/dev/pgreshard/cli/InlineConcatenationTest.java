package dev.pgreshard.cli;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every module is compiled with {@code -XDstringConcat=inline} (root pom): the first run of an
 * invokedynamic concatenation spins method-handle classes, ~30 ms of the first cutover pause of a worker
 * (bench/cutover, 2026-12-02). Reads the class files of each module as the application sees them.
 */
class InlineConcatenationTest {
    /** The bootstrap method's name, built at run time so that this class's own constant pool lacks it. */
    private static final String BOOTSTRAP = String.join("", "makeConcat", "WithConstants");
    private static final List<String> MODULES = List.of("dev/pgreshard/core", "dev/pgreshard/workflows",
            "dev/pgreshard/activities", "dev/pgreshard/proxy", "dev/pgreshard/cli");

    @Test
    void noModuleConcatenatesThroughInvokedynamic() throws Exception {
        List<String> offenders = new ArrayList<>();
        int read = 0;
        ClassLoader loader = getClass().getClassLoader();
        for (String pkg : MODULES) {
            int before = read;
            for (URL url : Collections.list(loader.getResources(pkg))) {
                for (byte[] classFile : classFiles(url, pkg)) {
                    read++;
                    // the bootstrap method's name is in the constant pool of every class that uses it
                    if (new String(classFile, StandardCharsets.ISO_8859_1).contains(BOOTSTRAP)) {
                        offenders.add(pkg + ": " + className(classFile));
                    }
                }
            }
            assertTrue(read > before, "no class file found under " + pkg);
        }
        assertEquals(List.of(), offenders.stream().limit(10).toList(),
                "classes concatenating through invokedynamic (" + offenders.size() + " of " + read + ")");
    }

    private static List<byte[]> classFiles(URL url, String pkg) throws Exception {
        List<byte[]> files = new ArrayList<>();
        if ("file".equals(url.getProtocol())) {
            try (Stream<Path> paths = Files.walk(Path.of(url.toURI()))) {
                for (Path p : paths.filter(p -> p.toString().endsWith(".class")).toList()) {
                    files.add(Files.readAllBytes(p));
                }
            }
        } else if ("jar".equals(url.getProtocol())) {
            URLConnection connection = url.openConnection();
            connection.setUseCaches(false);
            try (JarFile jar = ((JarURLConnection) connection).getJarFile()) {
                Enumeration<JarEntry> entries = jar.entries();
                while (entries.hasMoreElements()) {
                    JarEntry e = entries.nextElement();
                    if (e.getName().startsWith(pkg + "/") && e.getName().endsWith(".class")) {
                        try (InputStream in = jar.getInputStream(e)) {
                            files.add(in.readAllBytes());
                        }
                    }
                }
            }
        }
        return files;
    }

    /** A readable name for the report: the first "dev/pgreshard/..." string of the constant pool. */
    private static String className(byte[] classFile) {
        String text = new String(classFile, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("dev/pgreshard/");
        return at < 0 ? "?" : text.substring(at, Math.min(text.length(), at + 80)).split("[^A-Za-z0-9/$_]")[0];
    }
}
