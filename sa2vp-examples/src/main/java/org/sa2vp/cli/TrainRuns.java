package org.sa2vp.cli;

import org.sa2vp.train.Trainer;

import java.util.concurrent.CountDownLatch;

/** Running a {@link Trainer} from a command so that Ctrl-C stops it cleanly. */
final class TrainRuns {

    private TrainRuns() {
    }

    /**
     * {@link Trainer#fit()} with a shutdown hook that asks the trainer to stop after the current iteration and waits
     * for its checkpoint, so Ctrl-C loses nothing and {@code --resume} continues exactly.
     *
     * @return the result, or null when the JVM is shutting down (the command should exit with 130)
     */
    static Trainer.Result fitStoppable(Trainer trainer) {
        CountDownLatch finished = new CountDownLatch(1);
        Thread stopper = new Thread(() -> {
            trainer.requestStop();
            try {
                finished.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "sa2vp-train-stop");
        Runtime.getRuntime().addShutdownHook(stopper);
        Trainer.Result result;
        try {
            result = trainer.fit();
        } finally {
            finished.countDown();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(stopper);
        } catch (IllegalStateException shuttingDown) {
            return null;
        }
        return result;
    }
}
