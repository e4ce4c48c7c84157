package dev.pgreshard.proxy.protocol;

/** The SQLSTATE codes the proxy itself reports (PostgreSQL's meanings). */
public final class SqlState {
    public static final String PROTOCOL_VIOLATION = "08P01";
    public static final String CONNECTION_FAILURE = "08006";
    public static final String CANNOT_CONNECT = "08001";
    public static final String INVALID_PASSWORD = "28P01";
    public static final String INVALID_AUTHORIZATION = "28000";
    public static final String INVALID_CATALOG_NAME = "3D000";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String SYNTAX_ERROR = "42601";
    public static final String INVALID_PARAMETER_VALUE = "22023";
    public static final String IN_FAILED_TRANSACTION = "25P02";
    public static final String ADMIN_SHUTDOWN = "57P01";
    public static final String INTERNAL_ERROR = "XX000";
    public static final String OBJECT_NOT_IN_PREREQUISITE_STATE = "55000";
    public static final String TRANSACTION_RESOLUTION_UNKNOWN = "08007";
    public static final String SERIALIZATION_FAILURE = "40001";

    private SqlState() {
    }
}
