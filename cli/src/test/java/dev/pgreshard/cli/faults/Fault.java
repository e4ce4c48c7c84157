package dev.pgreshard.cli.faults;

import dev.pgreshard.testkit.TestDatabase;

import java.util.List;

/** One fault of the matrix, injected into a running {@link FaultCluster}; each recovers the way an operator would. */
public enum Fault {
    /** SIGKILL the worker JVM, then start a new one (Temporal moves the task's activities to it). */
    WORKER_SIGKILL {
        @Override
        void inject(FaultCluster c) throws Exception {
            c.killWorker();
            c.startWorker();
        }
    },
    /** SIGKILL the proxy JVM, then start a new one (clients reconnect). */
    PROXY_SIGKILL {
        @Override
        void inject(FaultCluster c) throws Exception {
            c.killProxy();
            c.startProxy();
        }
    },
    /** Stop and start the source server (every connection to it breaks: walsender, copy, proxy backends). */
    SOURCE_RESTART {
        @Override
        void inject(FaultCluster c) {
            c.sourceServer.restart();
        }
    },
    /** Stop and start the server of both destination shards (appliers, copy writers, schema sync). */
    DESTINATION_RESTART {
        @Override
        void inject(FaultCluster c) {
            c.destinationServer.restart();
        }
    },
    /**
     * pg_terminate_backend of every connection to the source and destination databases while the
     * servers stay up: the walsender and applier connections mid-stream, copy streams mid-table.
     */
    CONNECTION_CUT {
        @Override
        void inject(FaultCluster c) {
            for (TestDatabase db : List.of(c.src, c.d0, c.d1)) {
                db.queryRows("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                        + "AND pid <> pg_backend_pid()");
            }
        }
    };

    abstract void inject(FaultCluster c) throws Exception;
}
