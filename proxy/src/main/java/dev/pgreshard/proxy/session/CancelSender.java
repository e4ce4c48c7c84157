package dev.pgreshard.proxy.session;

import dev.pgreshard.core.topology.Shard;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;

/** Sends a CancelRequest for a backend's key on a fresh connection to its server, as the protocol requires. */
final class CancelSender {
    private CancelSender() {
    }

    /** CancelRequest: {@code Int32 16, Int32 80877102, Int32 processId, Int32 secretKey}. */
    static void send(EventLoop loop, Shard shard, int processId, int secretKey) {
        new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(shard.host(), shard.port()).addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        return;
                    }
                    Channel ch = f.channel();
                    ByteBuf b = ch.alloc().buffer(16);
                    b.writeInt(16).writeInt(80877102).writeInt(processId).writeInt(secretKey);
                    ch.writeAndFlush(b).addListener(ChannelFutureListener.CLOSE);
                });
    }
}
