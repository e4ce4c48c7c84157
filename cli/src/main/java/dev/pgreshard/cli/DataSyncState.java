package dev.pgreshard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgreshard.workflows.replication.TableStart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * What a foreground {@code data-sync} must remember between runs: each table's copy snapshot, so that
 * {@code --replicate-only} skips exactly the changes the copy already holds. Kept beside the config
 * in {@code .pgreshard/data-sync-SRC-DST.json}; the slot and the destinations' progress rows hold the rest.
 */
record DataSyncState(String source, String destination, String publication, List<TableStart> tableStarts) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path file(Path config, String source, String destination) {
        Path dir = config.toAbsolutePath().getParent();
        return dir.resolve(".pgreshard").resolve("data-sync-" + source + "-" + destination + ".json");
    }

    void write(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), this);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save " + file + " (needed by --replicate-only): " + e.getMessage(), e);
        }
    }

    static DataSyncState read(Path file, String source, String destination) {
        try {
            return JSON.readValue(Files.readString(file), DataSyncState.class);
        } catch (NoSuchFileException e) {
            throw new BadInputException("no earlier data-sync of " + source + " into " + destination + " is recorded in "
                    + file + "; run `pgreshard data-sync " + source + " " + destination + " PUB` (without flags) first");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file + ": " + e.getMessage(), e);
        }
    }
}
