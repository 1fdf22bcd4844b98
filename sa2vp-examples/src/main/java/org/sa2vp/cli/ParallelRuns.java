package org.sa2vp.cli;

import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs independent trainings side by side, each ND4J op on one thread. The networks of the demo and mini-VTAB are so
 * small that splitting each op over cores gains little (on 2 cores, SA2VP's tiny-ViT step is as fast on one thread
 * as on two), while two trainings at once nearly halve the wall time.
 */
final class ParallelRuns {

    private ParallelRuns() {
    }

    /** The results of {@code jobs} in order; with {@code workers == 1} they run one after another on all cores. */
    static <T> List<T> run(List<Callable<T>> jobs, int workers) {
        List<T> results = new ArrayList<>();
        if (workers == 1) {
            for (Callable<T> job : jobs) {
                results.add(call(job));
            }
            return results;
        }
        int threads = Nd4j.getEnvironment().maxThreads(), masterThreads = Nd4j.getEnvironment().maxMasterThreads();
        int blasThreads = Nd4j.factory().blas().getMaxThreads();
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> job : jobs) {
                futures.add(pool.submit(job));
            }
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
            Nd4j.getEnvironment().setMaxThreads(threads);
            Nd4j.getEnvironment().setMaxMasterThreads(masterThreads);
            Nd4j.factory().blas().setMaxThreads(blasThreads);
        }
    }

    private static <T> T call(Callable<T> job) {
        try {
            return job.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
