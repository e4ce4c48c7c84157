package dev.pgreshard.activities.control;

import io.micronaut.data.annotation.Query;
import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.GenericRepository;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** The commit decisions of two-phase commits: the first one recorded for a transaction wins. */
@JdbcRepository(dialect = Dialect.POSTGRES)
public interface DecisionRepository extends GenericRepository<DecisionRow, String> {

    /** Records {@code decision} unless the transaction has one; returns 1 when recorded, 0 when one was there. */
    @Query("""
            INSERT INTO pgreshard_decision (gid, decision, participants, decided_by)
            VALUES (:gid, :decision, :participants, :decidedBy) ON CONFLICT (gid) DO NOTHING""")
    int decide(String gid, String decision, String participants, String decidedBy);

    Optional<DecisionRow> findById(String gid);

    List<DecisionRow> findAllOrderByDecidedAt();

    void deleteByGidInList(Collection<String> gids);
}
