package io.github.batchnorm4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code bn4j} command line. Each subcommand lives in its own class. */
@Command(name = "bn4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Batch Normalization and its family, exact and fast, in pure Java.",
        subcommands = {CommandLine.HelpCommand.class, ReproduceCommand.class, TrainCommand.class,
                PredictCommand.class, ExportCommand.class, VerifyGoldenCommand.class, BenchCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit status (used by tests). */
    public static int run(String... args) {
        return CliErrors.install(new CommandLine(new Main())).execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Reads the version Maven wrote into {@code version.properties}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"bn4j " + p.getProperty("version", "unknown"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
