package dev.pgreshard.core.runtime;

import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The class files a class loader holds under a package, whether it reads them from a classes directory
 * (a build, the benches) or from a jar (the fat jar): for the proxy's warm-up of its sharded path, which
 * loads a package's classes ahead of their first use, and for checks of how the modules were compiled.
 */
public final class ClassFiles {
    private ClassFiles() {
    }

    /**
     * The resource names ("dev/pgreshard/x/Y.class") of every class file under {@code pkg} (slashes; sub-packages
     * included), over every place the loader finds that package.
     */
    public static List<String> under(ClassLoader loader, String pkg) throws IOException {
        List<String> names = new ArrayList<>();
        for (URL url : Collections.list(loader.getResources(pkg))) {
            if ("file".equals(url.getProtocol())) {
                Path root;
                try {
                    root = Path.of(url.toURI());
                } catch (URISyntaxException e) {
                    throw new IOException("cannot read " + url + ": " + e.getMessage(), e);
                }
                try (Stream<Path> files = Files.walk(root)) {
                    files.map(root::relativize).map(Path::toString).filter(f -> f.endsWith(".class"))
                            .forEach(f -> names.add(pkg + "/" + f.replace(java.io.File.separatorChar, '/')));
                }
            } else if ("jar".equals(url.getProtocol())) {
                URLConnection connection = url.openConnection();
                connection.setUseCaches(false); // our own JarFile: closing it leaves the class loader's alone
                try (JarFile jar = ((JarURLConnection) connection).getJarFile()) {
                    Enumeration<JarEntry> entries = jar.entries();
                    while (entries.hasMoreElements()) {
                        String entry = entries.nextElement().getName();
                        if (entry.startsWith(pkg + "/") && entry.endsWith(".class")) {
                            names.add(entry);
                        }
                    }
                }
            }
        }
        return names;
    }

    /** The binary name of the class a resource name holds ("dev/pgreshard/x/Y.class" → "dev.pgreshard.x.Y"). */
    public static String className(String resource) {
        return resource.substring(0, resource.length() - ".class".length()).replace('/', '.');
    }
}
