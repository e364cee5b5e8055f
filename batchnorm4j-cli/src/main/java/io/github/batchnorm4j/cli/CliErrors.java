package io.github.batchnorm4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;
import picocli.CommandLine;

/**
 * How the CLI reports a misuse: one line on stderr, {@code bn4j <command>: <what was expected, what was received>},
 * and a non-zero exit status; never a usage dump or a stack trace (set {@code BN4J_DEBUG=1} to get the trace of an
 * unexpected error). Command-line errors (unknown options, values of the wrong type, missing required options)
 * exit with 2, errors found while running with 1.
 */
final class CliErrors {
    private CliErrors() {}

    /** Installs both handlers on {@code cl} (and, through picocli, on its subcommands). */
    static CommandLine install(CommandLine cl) {
        cl.setParameterExceptionHandler(CliErrors::parameterError);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println(prefix(cmd) + describe(e));
            cmd.getErr().flush();
            if (System.getenv("BN4J_DEBUG") != null) {
                e.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cl;
    }

    private static int parameterError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        cmd.getErr().println(prefix(cmd) + oneLine(e.getMessage()) + " (see '" + name + " --help')");
        cmd.getErr().flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    private static String prefix(CommandLine cmd) {
        return cmd.getCommandSpec().qualifiedName() + ": ";
    }

    /** The message of an error escaping a command, with the file named for the file-system errors. */
    static String describe(Throwable e) {
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            e = u.getCause();
        }
        if (e instanceof FileSystemException f) {
            String what = e instanceof NoSuchFileException ? "no such file or folder"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof FileAlreadyExistsException ? "it exists, and is a file where a folder is needed"
                    : e instanceof NotDirectoryException ? "not a folder"
                    : f.getReason() == null ? e.getClass().getSimpleName() : f.getReason();
            return oneLine("cannot use " + f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile())
                    + ": " + what);
        }
        String msg = e.getMessage();
        if (e instanceof IOException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
            return oneLine(msg == null ? e.getClass().getSimpleName() : msg);
        }
        // A bug, not a misuse: still one line, with what is needed to report it.
        return oneLine(String.format(Locale.ROOT, "internal error (%s%s); run with BN4J_DEBUG=1 for the stack trace",
                e.getClass().getSimpleName(), msg == null ? "" : ": " + msg));
    }

    static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", " | ");
    }
}
