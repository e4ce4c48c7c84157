package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.routing.BindValues;

/** A Bind message's parameters seen as {@link BindValues} ($1 is index 1). */
record BindParameters(FrontendMessage.Bind bind) implements BindValues {
    @Override
    public int count() {
        return bind.params().length;
    }

    @Override
    public byte[] value(int index) {
        return bind.params()[index - 1];
    }

    @Override
    public int format(int index) {
        return bind.format(index - 1);
    }
}
