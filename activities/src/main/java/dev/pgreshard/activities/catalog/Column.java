package dev.pgreshard.activities.catalog;

/**
 * One column of a table as the source catalog describes it.
 *
 * @param name            attname (catalog spelling, unquoted)
 * @param typeName        pg_type.typname of the column's type ({@code int8}, {@code _text}, ...)
 * @param formattedType   format_type(), for messages
 * @param generated       a GENERATED ALWAYS AS (...) STORED column: never copied, the destination computes it
 * @param binaryPortable  false when the binary COPY form embeds a type OID that differs between
 *                        databases (arrays of user-defined types, composite types)
 */
public record Column(String name, String typeName, String formattedType, boolean generated, boolean binaryPortable) {
}
