package org.sa2vp.zoo.benchmark;

import java.util.List;

/**
 * Benchmarks beyond the paper's table, registered as a {@link java.util.ServiceLoader} service (a line naming the
 * implementation in {@code META-INF/services/org.sa2vp.zoo.benchmark.BenchmarkSource}). {@link Benchmarks#bundled()}
 * holds the paper's rows followed by every registered source's rows, so {@code sa2vp train --benchmark},
 * {@code sa2vp table} and {@code sa2vp ablate} run them by id like the paper's. Each source keeps its own suite,
 * different from the paper's ({@link Benchmark#SUITES}) and from every other source's.
 */
public interface BenchmarkSource {

    /** The source's rows, in the order tables list them; ids are {@code suite/name}, unique across sources. */
    List<Benchmark> benchmarks();
}
