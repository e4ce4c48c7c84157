package dev.pgreshard.proxy.routing;

/** The bind parameters of an Execute, for keys given as {@code $n}; {@link #NONE} for the simple protocol. */
public interface BindValues {
    BindValues NONE = new BindValues() {
        @Override
        public int count() {
            return 0;
        }

        @Override
        public byte[] value(int index) {
            throw new IndexOutOfBoundsException("no bind parameters");
        }

        @Override
        public int format(int index) {
            return 0;
        }
    };

    int count();

    /** Parameter {@code $index} (1-based) as sent; null for NULL. */
    byte[] value(int index);

    /** 0 text, 1 binary. */
    int format(int index);
}
