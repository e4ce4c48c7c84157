package dev.pgreshard.activities.replication.pgoutput;

/** The first byte of every pgoutput message (PostgreSQL docs, "Logical Replication Message Formats"). */
public enum PgOutputMessageType {
    BEGIN('B'),
    COMMIT('C'),
    ORIGIN('O'),
    RELATION('R'),
    TYPE('Y'),
    INSERT('I'),
    UPDATE('U'),
    DELETE('D'),
    TRUNCATE('T'),
    MESSAGE('M');

    private static final PgOutputMessageType[] BY_TAG = new PgOutputMessageType[128];

    static {
        for (PgOutputMessageType t : values()) {
            BY_TAG[t.tag] = t;
        }
    }

    private final char tag;

    PgOutputMessageType(char tag) {
        this.tag = tag;
    }

    public char tag() {
        return tag;
    }

    /** The type of tag byte {@code b}; protocol-v2+ streaming messages (S, E, c, A) are not requested and rejected. */
    public static PgOutputMessageType of(byte b) {
        PgOutputMessageType t = b >= 0 ? BY_TAG[b] : null;
        if (t == null) {
            throw new PgOutputFormatException("unknown pgoutput message type '" + (char) (b & 0xFF) + "' (0x"
                    + Integer.toHexString(b & 0xFF) + "); pgreshard requests proto_version 1 without streaming");
        }
        return t;
    }
}
