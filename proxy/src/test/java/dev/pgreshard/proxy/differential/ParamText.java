package dev.pgreshard.proxy.differential;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** Parameter values as text for reports (arrays spelled out). */
final class ParamText {
    private ParamText() {
    }

    static String of(List<Object> params) {
        return params.stream().map(p -> p instanceof Object[] a ? Arrays.toString(a) : String.valueOf(p))
                .collect(Collectors.joining(", ", "(", ")"));
    }
}
