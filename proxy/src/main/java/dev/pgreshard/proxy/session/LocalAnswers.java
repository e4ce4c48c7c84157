package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.FrontendMessage;
import io.netty.buffer.ByteBuf;
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
                    // ParameterDescription: Int16 0 parameters
                    ByteBuf none = alloc.buffer(7).writeByte('t').writeInt(6).writeShort(0);
                    session.write(none);
                }
                session.write(BackendMessages.empty(alloc, 'n')); // NoData
            } else if (m instanceof FrontendMessage.Execute || m instanceof FrontendMessage.Query) {
                session.write(BackendMessages.commandComplete(alloc, tag));
            }
        }
        unit.release();
    }
}
