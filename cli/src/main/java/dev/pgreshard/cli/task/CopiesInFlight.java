package dev.pgreshard.cli.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Which worker copies which table or key range right now, at what rate (issue 21): Temporal's pending
 * copy activities of the task, each with the identity of the worker running it and its last heartbeat
 * (rows and bytes so far; a range's heartbeat also names its table and range).
 */
final class CopiesInFlight {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The range of a CopyRange activity that has not heartbeated yet. */
    static final String UNKNOWN_RANGE = "?";

    /** One running copy activity. {@code range} is "i/n" for a key range ("?" not reported yet), "" for a whole table. */
    record Copy(String table, String range, String worker, int attempt, long rows, long bytes, long bytesPerSecond) {
    }

    private CopiesInFlight() {
    }

    static List<Copy> of(WorkflowClient client, String taskId) {
        DescribeWorkflowExecutionResponse described = client.getWorkflowServiceStubs().blockingStub()
                .describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
                        .setNamespace(client.getOptions().getNamespace())
                        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(taskId).build())
                        .build());
        long nowMillis = System.currentTimeMillis();
        List<Copy> copies = new ArrayList<>();
        for (PendingActivityInfo a : described.getPendingActivitiesList()) {
            String type = a.getActivityType().getName();
            if (!type.equals("CopyTable") && !type.equals("CopyRange")) {
                continue;
            }
            JsonNode beat = heartbeat(a);
            long rows = beat.path("rows").asLong(0);
            long bytes = beat.path("bytes").asLong(0);
            long startedMillis = a.hasLastStartedTime() ? a.getLastStartedTime().getSeconds() * 1000
                    + a.getLastStartedTime().getNanos() / 1_000_000 : 0;
            long elapsed = startedMillis == 0 ? 0 : nowMillis - startedMillis;
            // a range's first heartbeat names it; until that has reached Temporal (a worker killed in the first
            // milliseconds of a range never sends it) the copy is still a range, not a whole table: "?"
            String range = beat.has("count") ? (beat.path("index").asInt() + 1) + "/" + beat.path("count").asInt()
                    : type.equals("CopyRange") ? UNKNOWN_RANGE : "";
            copies.add(new Copy(table(beat.path("table")), range, a.getLastWorkerIdentity(), a.getAttempt(), rows, bytes,
                    elapsed <= 0 ? 0 : bytes * 1000 / elapsed));
        }
        return copies;
    }

    /** The last heartbeat's details as JSON (Temporal's default converter writes records as JSON), or an empty node. */
    private static JsonNode heartbeat(PendingActivityInfo a) {
        if (!a.hasHeartbeatDetails() || a.getHeartbeatDetails().getPayloadsCount() == 0) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode node = JSON.readTree(a.getHeartbeatDetails().getPayloads(0).getData().toByteArray());
            return node == null || !node.isObject() ? JSON.createObjectNode() : node;
        } catch (IOException notJson) {
            return JSON.createObjectNode();
        }
    }

    private static String table(JsonNode t) {
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isObject()) {
            return t.path("schema").asText() + "." + t.path("name").asText();
        }
        return "(table not reported yet)";
    }
}
