package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.copy.TableCopyResult;

import java.nio.file.Path;

/** Child-JVM entry point for crash tests: {@code CopyMain CONFIG TABLE first|retry}; prints progress lines. */
public final class CopyMain {
    private CopyMain() {
    }

    public static void main(String[] args) {
        try {
            PgReshardConfig config = ConfigLoader.load(Path.of(args[0]));
            TableCopyResult r = new TableCopier(config, new PgConnector(config)).copy(Clusters.TASK,
                    TableName.parse(args[1]), "retry".equals(args[2]), (table, rows, bytes) -> {
                        System.out.println("progress " + rows + " " + bytes);
                        System.out.flush();
                    });
            System.out.println("done " + r.rows() + " heap " + Runtime.getRuntime().maxMemory());
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace(System.out);
            System.exit(1);
        }
    }
}
