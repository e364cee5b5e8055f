package io.github.batchnorm4j.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What every fuzz target shares. A target feeds one input to a parser and checks the property of docs/reliability.md:
 * the input either loads, or the parser throws its documented exception with a message that names the file; any
 * other exception, an allocation beyond the target's stated bound, or a hang (the fuzzer's per-input timeout) is a
 * finding.
 *
 * <p>The parsers read files, so each input is written to a scratch file that is reused (on tmpfs when there is
 * one, to keep the fuzzer fast).
 */
final class FuzzSupport {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final Path DIR = scratchDir();

    private FuzzSupport() {}

    private static Path scratchDir() {
        try {
            Path shm = Path.of("/dev/shm");
            Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
            Path d = Files.createTempDirectory(base, "bn4j-fuzz-");
            d.toFile().deleteOnExit();
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code data} to this thread's scratch file called {@code name} and returns its path. */
    static Path file(String name, byte[] data) {
        Path p = DIR.resolve(Thread.currentThread().threadId() + "-" + name);
        try {
            Files.write(p, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        p.toFile().deleteOnExit();
        return p;
    }

    /** Bytes allocated so far by the current thread. */
    static long allocated() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /**
     * Runs {@code body} (one input through a parser and its property check); a finding unless it allocates at most
     * {@code perInputByte * inputSize + fixed} bytes. An input over the bound is run a second time before it counts:
     * the first call of a code path also allocates for class loading and the fuzzer's instrumentation, which belongs
     * to the JVM rather than to the parser.
     */
    static void bounded(String what, int inputSize, long perInputByte, long fixed, Runnable body) {
        long bound = perInputByte * inputSize + fixed;
        long before = allocated();
        body.run();
        long bytes = allocated() - before;
        if (bytes > bound) {
            before = allocated();
            body.run();
            bytes = allocated() - before;
            if (bytes > bound) {
                throw new AssertionError(what + " allocated " + bytes + " bytes for an input of " + inputSize
                        + " bytes, above the bound of " + bound + " (" + perInputByte + " x input + " + fixed + ")");
            }
        }
    }

    /**
     * Accepts {@code e} when it is one of the documented exception types and has a message naming {@code file}
     * (when {@code file} is not null); otherwise rethrows it as a finding.
     */
    @SafeVarargs
    static void expectDocumented(Throwable e, Path file, Class<? extends Throwable>... documented) {
        boolean known = false;
        for (Class<? extends Throwable> c : documented) {
            known |= c.isInstance(e);
        }
        String msg = e.getMessage();
        if (!known || msg == null || msg.isBlank() || (file != null && !msg.contains(file.toString()))) {
            throw new AssertionError("Expected " + java.util.Arrays.toString(documented) + " with a message naming "
                    + file + ", got " + e, e);
        }
    }
}
