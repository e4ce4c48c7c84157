package dev.pgreshard.proxy.differential;

import java.util.ArrayList;
import java.util.List;

/** The parameters of a statement being generated: a value for its first execution and one for its second. */
final class Params {
    final List<Object> first = new ArrayList<>();
    final List<Object> second = new ArrayList<>();

    /** Adds a parameter and returns its placeholder. */
    String add(Object a, Object b) {
        first.add(a);
        second.add(b);
        return "?";
    }
}
