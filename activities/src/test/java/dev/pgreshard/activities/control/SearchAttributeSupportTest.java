package dev.pgreshard.activities.control;

import dev.pgreshard.workflows.reshard.TaskSearchAttributes;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.testing.TestWorkflowEnvironment;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the claim learns from Temporal's test server (no ListSearchAttributes there: the probe answers). */
class SearchAttributeSupportTest {
    @Test
    void answersWhatTheNamespaceHasRegistered() {
        try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
            assertEquals(List.of(), SearchAttributeSupport.supported(env.getWorkflowClient()), "nothing registered");
            env.registerSearchAttribute("PgreshardSource", IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
            assertEquals(List.of(), SearchAttributeSupport.supported(env.getWorkflowClient()), "one of three: none");
            env.registerSearchAttribute("PgreshardDestination", IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
            env.registerSearchAttribute("PgreshardPhase", IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
            assertEquals(TaskSearchAttributes.NAMES, SearchAttributeSupport.supported(env.getWorkflowClient()));
        }
    }
}
