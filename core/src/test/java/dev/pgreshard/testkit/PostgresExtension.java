package dev.pgreshard.testkit;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension: a test (or lifecycle method) parameter of type {@link PgServer} gets the shared
 * server; each parameter of type {@link TestDatabase} gets a new, empty database on it, named after
 * the test.
 *
 * <pre>{@code
 * @ExtendWith(PostgresExtension.class)
 * class MyTest {
 *     @Test void copies(TestDatabase source, TestDatabase shard0, TestDatabase shard1) { ... }
 * }
 * }</pre>
 */
public final class PostgresExtension implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == PgServer.class || type == TestDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        if (parameter.getParameter().getType() == PgServer.class) {
            return PostgresFixture.server();
        }
        String prefix = context.getTestMethod().map(m -> m.getName()).orElse(context.getRequiredTestClass().getSimpleName())
                + "_" + parameter.getParameter().getName();
        return PostgresFixture.database(prefix.length() > 40 ? prefix.substring(0, 40) : prefix);
    }
}
