package dev.pgreshard.workflows.reshard;

import com.fasterxml.jackson.databind.JsonNode;
import io.temporal.failure.ApplicationFailure;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The one input of {@code ReshardWorkflow}, as any Temporal client sends it (the CLI, the admin
 * database, the Temporal CLI or UI):
 * <pre>{"source":"prod","destination":"prod_sharded","publication":"app_pub",
 *  "options":{"manualCutover":true,"copyParallelism":4}}</pre>
 * Every option may be left out; the worker's pgreshard.toml then decides (see {@link ReshardOptions}).
 *
 * <p>The workflow receives the raw JSON and {@link #parse}s it itself, so that a malformed input
 * fails the workflow at once with a non-retryable {@value #INVALID_INPUT} failure naming the field,
 * instead of failing Temporal's payload conversion on every workflow task for ever.
 */
public record ReshardInput(String source, String destination, String publication, ReshardOptions options) {
    /** Failure type of a malformed input (non-retryable). */
    public static final String INVALID_INPUT = "InvalidReshardInput";

    private static final List<String> FIELDS = List.of("source", "destination", "publication", "options");
    private static final Map<String, Kind> OPTIONS = new java.util.LinkedHashMap<>();

    static {
        OPTIONS.put("manualCutover", Kind.BOOLEAN);
        OPTIONS.put("copyParallelism", Kind.POSITIVE_INT);
        OPTIONS.put("lagThresholdBytes", Kind.NON_NEGATIVE_LONG);
        OPTIONS.put("pauseBudgetMs", Kind.POSITIVE_LONG);
        OPTIONS.put("lagPollSeconds", Kind.POSITIVE_INT);
        OPTIONS.put("cutoverRetrySeconds", Kind.POSITIVE_INT);
        OPTIONS.put("maxAutomaticCutovers", Kind.POSITIVE_INT);
        OPTIONS.put("fenceSource", Kind.BOOLEAN);
    }

    /** Names of the option fields, in the order the README lists them. */
    public static Set<String> optionNames() {
        return OPTIONS.keySet();
    }

    private enum Kind {
        BOOLEAN("true or false", JsonNode::isBoolean),
        POSITIVE_INT("a whole number of at least 1", n -> n.canConvertToInt() && n.isIntegralNumber() && n.intValue() >= 1),
        POSITIVE_LONG("a whole number of at least 1", n -> n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 1),
        NON_NEGATIVE_LONG("a whole number of at least 0",
                n -> n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0);

        final String expected;
        final Predicate<JsonNode> valid;

        Kind(String expected, Predicate<JsonNode> valid) {
            this.expected = expected;
            this.valid = valid;
        }
    }

    /** Parses and validates the workflow's input; throws a non-retryable {@link ApplicationFailure} naming the field. */
    public static ReshardInput parse(JsonNode input) {
        if (input == null || input.isNull() || input.isMissingNode()) {
            throw invalid("the input is empty; pass one JSON object " + example());
        }
        if (!input.isObject()) {
            throw invalid("the input must be one JSON object " + example() + ", not " + describe(input)
                    + (input.isTextual() ? " (positional arguments are not accepted: put them in the one object)" : ""));
        }
        for (Iterator<String> names = input.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                String hint = OPTIONS.containsKey(name) || OPTIONS.containsKey(camel(name))
                        ? "; options go inside \"options\", as \"" + camel(name) + "\""
                        : FIELDS.contains(camel(name)) ? "; did you mean \"" + camel(name) + "\"?" : "";
                throw invalid("unknown field \"" + name + "\" in the input" + hint + "; the fields are " + FIELDS);
            }
        }
        String source = requiredName(input, "source");
        String destination = requiredName(input, "destination");
        String publication = requiredName(input, "publication");
        if (source.equals(destination)) {
            throw invalid("\"source\" and \"destination\" are both \"" + source + "\"; reshard into another cluster");
        }
        return new ReshardInput(source, destination, publication, options(input.get("options")));
    }

    private static ReshardOptions options(JsonNode node) {
        if (node == null || node.isNull()) {
            return new ReshardOptions(null, null, null, null, null, null, null, null);
        }
        if (!node.isObject()) {
            throw invalid("\"options\" must be a JSON object such as {\"manualCutover\":true}, not " + describe(node));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!OPTIONS.containsKey(name)) {
                String hint = OPTIONS.containsKey(camel(name)) ? "; did you mean \"" + camel(name) + "\"?" : "";
                throw invalid("unknown option \"options." + name + "\"" + hint + "; the options are " + OPTIONS.keySet());
            }
        }
        List<JsonNode> values = new ArrayList<>();
        for (Map.Entry<String, Kind> option : OPTIONS.entrySet()) {
            JsonNode v = node.get(option.getKey());
            if (v != null && !v.isNull() && !option.getValue().valid.test(v)) {
                throw invalid("\"options." + option.getKey() + "\" must be " + option.getValue().expected + ", not "
                        + describe(v));
            }
            values.add(v == null || v.isNull() ? null : v);
        }
        return new ReshardOptions(bool(values.get(0)), integer(values.get(1)), longValue(values.get(2)),
                longValue(values.get(3)), integer(values.get(4)), integer(values.get(5)), integer(values.get(6)),
                bool(values.get(7)));
    }

    private static String requiredName(JsonNode input, String field) {
        JsonNode v = input.get(field);
        if (v == null || v.isNull()) {
            throw invalid("\"" + field + "\" is missing; the input needs \"source\", \"destination\" and "
                    + "\"publication\" " + example());
        }
        if (!v.isTextual()) {
            throw invalid("\"" + field + "\" must be a string, not " + describe(v));
        }
        String text = v.textValue().trim();
        if (text.isEmpty()) {
            throw invalid("\"" + field + "\" is blank; name the " + (field.equals("publication")
                    ? "source publication that lists the tables to move" : "cluster ([[databases]] name)"));
        }
        return text;
    }

    private static Boolean bool(JsonNode v) {
        return v == null ? null : v.booleanValue();
    }

    private static Integer integer(JsonNode v) {
        return v == null ? null : v.intValue();
    }

    private static Long longValue(JsonNode v) {
        return v == null ? null : v.longValue();
    }

    /** {@code manual_cutover} / {@code Manual-Cutover} → {@code manualCutover}: the spelling hint of an unknown field. */
    static String camel(String name) {
        StringBuilder b = new StringBuilder();
        boolean upper = false;
        for (char ch : name.toCharArray()) {
            if (ch == '_' || ch == '-') {
                upper = b.length() > 0;
            } else {
                b.append(upper ? Character.toUpperCase(ch) : b.length() == 0 ? Character.toLowerCase(ch) : ch);
                upper = false;
            }
        }
        return b.toString();
    }

    private static String describe(JsonNode v) {
        String text = v.toString();
        String shown = text.length() > 60 ? text.substring(0, 57) + "..." : text;
        return v.getNodeType().name().toLowerCase(Locale.ROOT) + " " + shown;
    }

    private static String example() {
        return "{\"source\":\"prod\",\"destination\":\"prod_sharded\",\"publication\":\"app_pub\",\"options\":{...}}";
    }

    private static ApplicationFailure invalid(String message) {
        return ApplicationFailure.newNonRetryableFailure("invalid ReshardWorkflow input: " + message, INVALID_INPUT);
    }
}
