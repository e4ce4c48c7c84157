package dev.pgreshard.proxy.routing;

/** Placeholder, replaced by the JSqlParser analysis. */
public final class SqlAnalyzer {
}
