package dev.pgreshard.workflows.verify;

import dev.pgreshard.workflows.TaskRef;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** Row counts, order-independent checksums and shard placement of every published table. */
@ActivityInterface
public interface VerifyActivities {
    @ActivityMethod
    VerifyReport verify(TaskRef task);
}
