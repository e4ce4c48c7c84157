package dev.pgreshard.proxy.auth;

/** A client failed to authenticate; the detail is logged, the client gets PostgreSQL's generic 28P01 text. */
public class AuthenticationFailure extends Exception {
    public AuthenticationFailure(String detail) {
        super(detail);
    }
}
