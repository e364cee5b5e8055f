package io.github.batchnorm4j.data;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Installs a missing Debian package when the process may (it runs as root and apt-get exists), so that a fresh
 * machine with only a JDK runs the README's first command. It says what it does in one line; when it may not, it
 * does nothing and the caller's error names the command. {@code BN4J_APT_GET} overrides the apt-get command
 * ({@code none} forbids installing), for tests.
 */
final class AptInstall {
    private AptInstall() {}

    /** Tries {@code apt-get install -y pkg}; true when it ran and succeeded. Never throws. */
    static boolean install(String pkg, String what, PrintStream log) {
        String apt = System.getenv("BN4J_APT_GET");
        if (apt == null || apt.isBlank()) {
            apt = "apt-get";
        }
        if (apt.equals("none") || !isRoot() || !onPath(apt)) {
            return false;
        }
        log.println("bn4j: " + what + " is missing; installing it: " + apt + " install -y " + pkg);
        if (run(apt, "install", "-y", "-q", pkg) || (run(apt, "update", "-q") && run(apt, "install", "-y", "-q", pkg))) {
            return true;
        }
        log.println("bn4j: could not install " + pkg + " with " + apt + "; run: sudo apt-get update && sudo apt-get "
                + "install " + pkg);
        return false;
    }

    private static boolean run(String... cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = pb.start();
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean isRoot() {
        try {
            Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 && out.equals("0");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean onPath(String cmd) {
        if (cmd.contains("/")) {
            return Files.isExecutable(Path.of(cmd));
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, cmd))) {
                return true;
            }
        }
        return false;
    }
}
