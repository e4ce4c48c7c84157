package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.session.ClientSession;
import io.netty.buffer.ByteBufAllocator;

/**
 * Answers a unit the proxy handles itself (BEGIN, which is begun lazily on the shards, or a COMMIT with
 * no shard in the transaction) message by message, as PostgreSQL would.
 */
final class LocalAnswers {
    private LocalAnswers() {
    }

    static void answer(ClientSession session, Unit unit, String tag) {
        ByteBufAllocator alloc = session.channel().alloc();
        for (Unit.Part p : unit.parts) {
            FrontendMessage m = p.message();
            if (m instanceof FrontendMessage.Parse) {
                session.write(BackendMessages.empty(alloc, '1')); // ParseComplete
            } else if (m instanceof FrontendMessage.Bind) {
                session.write(BackendMessages.empty(alloc, '2')); // BindComplete
            } else if (m instanceof FrontendMessage.Describe d) {
                if (d.kind() == 'S') {
                    session.write(BackendMessages.parameterDescription(alloc, new int[0]));
                }
                session.write(BackendMessages.empty(alloc, 'n')); // NoData
            } else if (m instanceof FrontendMessage.Execute || m instanceof FrontendMessage.Query) {
                session.write(BackendMessages.commandComplete(alloc, tag));
            }
        }
        unit.release();
    }
}
