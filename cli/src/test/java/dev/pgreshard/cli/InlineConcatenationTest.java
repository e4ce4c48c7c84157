package dev.pgreshard.cli;

import dev.pgreshard.core.runtime.ClassFiles;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
            List<String> classFiles = ClassFiles.under(loader, pkg);
            assertTrue(!classFiles.isEmpty(), "no class file found under " + pkg);
            for (String resource : classFiles) {
                read++;
                try (InputStream in = loader.getResourceAsStream(resource)) {
                    assertNotNull(in, resource);
                    // the bootstrap method's name is in the constant pool of every class that uses it
                    if (new String(in.readAllBytes(), StandardCharsets.ISO_8859_1).contains(BOOTSTRAP)) {
                        offenders.add(resource);
                    }
                }
            }
        }
        assertEquals(List.of(), offenders.stream().limit(10).toList(),
                "classes concatenating through invokedynamic (" + offenders.size() + " of " + read + ")");
    }
}
