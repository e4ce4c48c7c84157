package dev.pgreshard.activities.catalog;

/**
 * One column of a table as the source catalog describes it.
 *
 * @param name            attname (catalog spelling, unquoted)
 * @param typeName        pg_type.typname of the column's type ({@code int8}, {@code _text}, ...)
 * @param formattedType   format_type(), for messages
 * @param generated       a GENERATED ALWAYS AS (...) STORED column: never copied, the destination computes it
 * @param binaryPortable  false for composite types (and arrays or domains of them): their binary COPY
 *                        form carries the OID of every attribute's type, which this build cannot map
 * @param arrayElement    for an array of a user-defined type (an enum[], a domain[]): the element type
 *                        as a quoted qualified name, else null. The binary array form carries the
 *                        element's OID, which differs between databases, so the copy rewrites it.
 */
public record Column(String name, String typeName, String formattedType, boolean generated, boolean binaryPortable,
                     String arrayElement) {
}
