package dev.pgreshard.activities.control;

import dev.pgreshard.workflows.reshard.TaskSearchAttributes;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.SearchAttributes;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Which of pgreshard's search attributes ({@link TaskSearchAttributes#NAMES}) the namespace has
 * registered as Keyword. Asked with the OperatorService's {@code ListSearchAttributes} (every Temporal
 * server and Cloud). Temporal's Java test server (also behind {@code pgreshard temporal}) lacks that
 * call; there a probe workflow is started with the attributes and terminated at once: the server
 * refuses the start when one is not registered. Anything else that goes wrong answers "none", so a
 * task never depends on the answer (it only decides what the Temporal UI can filter on).
 */
public final class SearchAttributeSupport {
    private static final Logger log = LoggerFactory.getLogger(SearchAttributeSupport.class);
    static final String PROBE_WORKFLOW_TYPE = "PgreshardSearchAttributeProbe";

    private SearchAttributeSupport() {
    }

    /** The names registered as Keyword, in {@link TaskSearchAttributes#NAMES} order. */
    public static List<String> supported(WorkflowClient client) {
        String namespace = client.getOptions().getNamespace();
        try {
            return listed(client, namespace);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
                log.warn("cannot list the search attributes of namespace {} ({}); setting none", namespace, e.getStatus());
                return List.of();
            }
        }
        return probed(client, namespace);
    }

    private static List<String> listed(WorkflowClient client, String namespace) {
        OperatorServiceStubs operator = OperatorServiceStubs.newServiceStubs(OperatorServiceStubsOptions.newBuilder()
                .setChannel(client.getWorkflowServiceStubs().getRawChannel()).validateAndBuildWithDefaults());
        try {
            ListSearchAttributesResponse r = operator.blockingStub()
                    .listSearchAttributes(ListSearchAttributesRequest.newBuilder().setNamespace(namespace).build());
            List<String> out = new ArrayList<>();
            for (String name : TaskSearchAttributes.NAMES) {
                if (r.getCustomAttributesMap().get(name) == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD) {
                    out.add(name);
                } else if (r.getCustomAttributesMap().containsKey(name)) {
                    log.warn("search attribute {} of namespace {} is {}, not Keyword: pgreshard does not set it", name,
                            namespace, r.getCustomAttributesMap().get(name));
                }
            }
            return out;
        } finally {
            operator.shutdownNow(); // the channel is the client's and stays open
        }
    }

    /** All or none: the server names only the first unknown attribute when it refuses a start. */
    private static List<String> probed(WorkflowClient client, String namespace) {
        SearchAttributes.Builder attributes = SearchAttributes.newBuilder();
        for (String name : TaskSearchAttributes.NAMES) {
            attributes.set(SearchAttributeKey.forKeyword(name), "probe");
        }
        WorkflowStub probe = client.newUntypedWorkflowStub(PROBE_WORKFLOW_TYPE, WorkflowOptions.newBuilder()
                .setWorkflowId("pgreshard-search-attribute-probe-" + UUID.randomUUID())
                .setTaskQueue("pgreshard-search-attribute-probe")
                .setTypedSearchAttributes(attributes.build()).build());
        try {
            probe.start();
        } catch (RuntimeException e) {
            log.info("namespace {} has not registered pgreshard's search attributes ({}): setting none", namespace,
                    e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            return List.of();
        }
        try {
            probe.terminate("pgreshard: search attribute probe, never runs");
        } catch (RuntimeException e) {
            log.warn("could not terminate search attribute probe {}: {}", probe.getExecution().getWorkflowId(), e.toString());
        }
        return TaskSearchAttributes.NAMES;
    }
}
