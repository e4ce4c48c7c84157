package dev.pgreshard.proxy;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WavesTest {

    @Test
    void atOnceSpreadsOverTheWavesWithAFloor() {
        assertEquals(2, Waves.atOnce(8, 8, 2), "8 sessions: 2 at once, 4 waves");
        assertEquals(2, Waves.atOnce(1, 8, 2));
        assertEquals(125, Waves.atOnce(1000, 8, 2), "1000 sessions: still 8 waves");
        assertEquals(13, Waves.atOnce(100, 8, 2));
    }

    @Test
    void startsOnlyAtOnceItemsAndTheNextWhenOneEnds() {
        List<CompletableFuture<String>> started = new ArrayList<>();
        List<Integer> order = new ArrayList<>();
        List<CompletableFuture<String>> results = Waves.start(IntStream.range(0, 5).boxed().toList(), 2, i -> {
            order.add(i);
            CompletableFuture<String> f = new CompletableFuture<>();
            started.add(f);
            return f;
        }).results();
        assertEquals(List.of(0, 1), order, "two at once");
        started.get(1).complete("one");
        assertEquals(List.of(0, 1, 2), order, "the third starts when one ends");
        assertEquals("one", results.get(1).join());
        started.get(0).completeExceptionally(new IllegalStateException("refused"));
        assertEquals(List.of(0, 1, 2, 3), order, "an error ends an item too");
        assertThrows(CompletionException.class, () -> results.get(0).join());
        started.get(2).complete(null);
        started.get(3).complete("three");
        assertEquals(List.of(0, 1, 2, 3, 4), order);
        started.get(4).complete("four");
        assertEquals(List.of("one", "three", "four"), List.of(results.get(1).join(), results.get(3).join(), results.get(4).join()));
    }

    @Test
    void stopKeepsTheItemsNotStartedFromStarting() {
        List<Integer> order = new ArrayList<>();
        List<CompletableFuture<String>> started = new ArrayList<>();
        Waves.Started<String> waves = Waves.start(IntStream.range(0, 4).boxed().toList(), 2, i -> {
            order.add(i);
            CompletableFuture<String> f = new CompletableFuture<>();
            started.add(f);
            return f;
        });
        waves.stop();
        started.get(0).complete("late");
        started.get(1).complete("late");
        assertEquals(List.of(0, 1), order, "nothing starts after stop");
        assertTrue(waves.results().stream().allMatch(CompletableFuture::isCancelled), "unsettled results are cancelled");
    }

    @Test
    void workThatThrowsFailsItsItemAndTheRestGoOn() {
        List<CompletableFuture<String>> results = Waves.start(List.of("a", "b", "c"), 1, s -> {
            if (s.equals("b")) {
                throw new IllegalArgumentException("bad " + s);
            }
            return CompletableFuture.completedFuture(s.toUpperCase());
        }).results();
        assertEquals("A", results.get(0).join());
        assertThrows(CompletionException.class, () -> results.get(1).join());
        assertEquals("C", results.get(2).join());
    }
}
