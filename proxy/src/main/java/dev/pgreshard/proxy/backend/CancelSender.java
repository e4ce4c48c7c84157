package dev.pgreshard.proxy.backend;

import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;

/** Sends a CancelRequest for a backend's key on a fresh connection to its server, as the protocol requires. */
public final class CancelSender {
    private CancelSender() {
    }

    /** Fire and forget: the server answers a CancelRequest with nothing but closing the connection. */
    public static void send(EventLoop loop, Shard shard, int processId, int secretKey) {
        new Bootstrap().group(loop).channel(Transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(shard.host(), shard.port()).addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        return;
                    }
                    Channel ch = f.channel();
                    ch.writeAndFlush(FrontendMessages.cancelRequest(ch.alloc(), processId, secretKey))
                            .addListener(ChannelFutureListener.CLOSE);
                });
    }
}
