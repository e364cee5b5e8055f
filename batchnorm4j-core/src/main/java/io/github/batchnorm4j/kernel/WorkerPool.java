package io.github.batchnorm4j.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A persistent pool of worker threads for data-parallel loops. {@link #parallelFor} runs {@code body.accept(i)}
 * for every task {@code i} in {@code [0, tasks)}: the calling thread takes part, idle workers spin briefly and
 * then park, so a hand-off costs microseconds rather than a thread start.
 *
 * <p>Determinism is the caller's contract: split work into tasks by problem size, never by thread count, and
 * let each task write only its own outputs. Then results are bit-identical for any number of threads.
 *
 * <p>The number of threads defaults to the available processors, or the system property
 * {@code bn4j.threads}; {@link #setThreads} changes it (1 = everything on the calling thread). Nested calls from
 * inside a task run sequentially on that thread.
 */
public final class WorkerPool {
    private static final int SPIN = 20_000;
    private static volatile int threads = Math.max(1, Integer.getInteger("bn4j.threads",
            Runtime.getRuntime().availableProcessors()));
    private static Worker[] workers = new Worker[0];
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
    private static final Object LOCK = new Object();

    private WorkerPool() {}

    public static int threads() {
        return threads;
    }

    /** Sets the number of threads used by later calls (at least 1). */
    public static void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("Expected at least 1 thread, got " + n);
        }
        threads = n;
    }

    /** Runs {@code body} for each task index; returns when all are done. Exceptions are rethrown. */
    public static void parallelFor(int tasks, IntConsumer body) {
        int t = Math.min(threads, tasks);
        if (t <= 1 || INSIDE.get()) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        synchronized (LOCK) { // one parallel region at a time; callers from several threads queue here
            Job job = new Job(tasks, body, t - 1);
            Worker[] ws = ensureWorkers(t - 1);
            for (int w = 0; w < t - 1; w++) {
                ws[w].submit(job);
            }
            INSIDE.set(true);
            try {
                job.work();
            } finally {
                INSIDE.set(false);
            }
            job.awaitHelpers();
            if (job.failure != null) {
                if (job.failure instanceof RuntimeException re) {
                    throw re;
                }
                if (job.failure instanceof Error er) {
                    throw er;
                }
                throw new RuntimeException(job.failure);
            }
        }
    }

    private static Worker[] ensureWorkers(int n) {
        if (workers.length < n) {
            Worker[] grown = java.util.Arrays.copyOf(workers, n);
            for (int i = workers.length; i < n; i++) {
                grown[i] = new Worker(i + 1);
                grown[i].start();
            }
            workers = grown;
        }
        return workers;
    }

    private static final class Job {
        final int tasks;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger pendingHelpers;
        volatile Thread owner = Thread.currentThread();
        volatile Throwable failure;

        Job(int tasks, IntConsumer body, int helpers) {
            this.tasks = tasks;
            this.body = body;
            this.pendingHelpers = new AtomicInteger(helpers);
        }

        void work() {
            int i;
            while ((i = next.getAndIncrement()) < tasks) {
                try {
                    body.accept(i);
                } catch (Throwable e) {
                    failure = e;
                    next.set(tasks); // stop handing out tasks
                }
            }
        }

        void helperDone() {
            if (pendingHelpers.decrementAndGet() == 0) {
                LockSupport.unpark(owner);
            }
        }

        void awaitHelpers() {
            int spins = 0;
            while (pendingHelpers.get() > 0) {
                if (++spins < SPIN) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 100_000L);
                }
            }
        }
    }

    private static final class Worker extends Thread {
        private volatile Job job;

        Worker(int id) {
            super("bn4j-worker-" + id);
            setDaemon(true);
        }

        void submit(Job j) {
            job = j;
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            INSIDE.set(true);
            int spins = 0;
            while (true) {
                Job j = job;
                if (j == null) {
                    if (++spins < SPIN) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                    continue;
                }
                spins = 0;
                job = null;
                j.work();
                j.helperDone();
            }
        }
    }
}
