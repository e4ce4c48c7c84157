package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A re-run after a rollback copies into a destination whose post-data (foreign keys, indexes) an
 * earlier run left: the child table, copied before its parent, must not be refused by the key.
 */
@ExtendWith(PostgresExtension.class)
class CopyIntoLeftSchemaTest {

    @Test
    void childBeforeParentIntoAForeignKeyLeftByAnEarlierRun(TestDatabase src, TestDatabase dst0, TestDatabase dst1)
            throws Exception {
        String ddl = "CREATE TABLE parents (id bigint PRIMARY KEY, name text);"
                + "CREATE TABLE children (id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES parents (id));"
                + "CREATE INDEX children_parent ON children (parent_id);";
        src.execute(ddl, "INSERT INTO parents SELECT g, 'p' || g FROM generate_series(1, 50) g",
                "INSERT INTO children SELECT g, 1 + g % 50 FROM generate_series(1, 500) g",
                "CREATE PUBLICATION pub FOR TABLE parents, children");
        for (TestDatabase d : List.of(dst0, dst1)) {
            d.execute(ddl); // what the earlier run's schema sync (pre and post data) left, emptied by TRUNCATE
        }
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1), ""); // both omnisharded
        TableCopier copier = new TableCopier(config, new PgConnector(config));
        assertEquals(500 * 2, copier.copy(TASK, TableName.parse("children"), false, CopyListener.NONE).rows());
        assertEquals(50 * 2, copier.copy(TASK, TableName.parse("parents"), false, CopyListener.NONE).rows());
        for (TestDatabase d : List.of(dst0, dst1)) {
            assertEquals(0, d.queryLong("SELECT count(*) FROM children c LEFT JOIN parents p ON p.id = c.parent_id "
                    + "WHERE p.id IS NULL"), "every child has its parent once the copy ends");
            assertEquals(1, d.queryLong("SELECT count(*) FROM pg_constraint WHERE conname = 'children_parent_id_fkey'"));
        }
    }
}
