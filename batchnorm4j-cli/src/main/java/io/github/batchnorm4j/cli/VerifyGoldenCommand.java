package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.golden.GoldenCase;
import io.github.batchnorm4j.golden.GoldenResult;
import io.github.batchnorm4j.golden.GoldenRunner;
import io.github.batchnorm4j.io.SafeTensors.MalformedFileException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bn4j verify-golden [DIR]}: runs every PyTorch golden case in DIR through the library (the same
 * {@link GoldenRunner} the test suite uses), one line per case, then {@code N passed, M failed}.
 */
@Command(name = "verify-golden", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the PyTorch golden cases (*.safetensors) in DIR through BatchNorm, LayerNorm, GroupNorm"
                + " and InstanceNorm and compares y, the gradients and the running statistics with PyTorch's float64"
                + " results: max|A-E| <= 1e-5*max(1,max|E|) for y and running statistics, 1e-4*max(1,max|E|) for"
                + " gradients.",
                "Prints one line per case (name, worst error as a fraction of its tolerance, pass/FAIL) and a"
                + " closing line 'N passed, M failed'; a malformed case counts as failed."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every case passed", "1:a case failed",
                "2:a case file is malformed, or DIR holds no cases"})
public final class VerifyGoldenCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR",
            description = "directory of cases (default: golden/cases of the bn4j installation)")
    private Path dir;

    @Spec
    private CommandSpec spec;

    /** The committed cases: {@code ${bn4j.home}/golden/cases} (set by the launcher), else ./golden/cases. */
    static Path defaultDir() {
        String home = System.getProperty("bn4j.home");
        return home == null || home.isEmpty() ? Path.of("golden", "cases") : Path.of(home, "golden", "cases");
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            return verify(dir != null ? dir : defaultDir(), out, err);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static int verify(Path dir, PrintWriter out, PrintWriter err) {
        List<Path> files;
        try {
            files = Files.isDirectory(dir) ? GoldenCase.list(dir) : null;
        } catch (IOException e) {
            files = null;
        }
        if (files == null) {
            err.println("bn4j verify-golden: expected a readable directory of golden cases, got " + dir);
            return 2;
        }
        if (files.isEmpty()) {
            err.println("bn4j verify-golden: expected golden cases (*" + GoldenCase.SUFFIX + ") in " + dir + ", got none");
            return 2;
        }
        int passed = 0;
        int failed = 0;
        boolean malformed = false;
        for (Path f : files) {
            GoldenCase c;
            try {
                c = GoldenCase.read(f);
            } catch (IOException e) {
                malformed = true;
                failed++;
                out.println(String.format(Locale.ROOT, "%-44s malformed  FAIL", GoldenCase.nameOf(f)));
                err.println("bn4j verify-golden: malformed case " + (e instanceof MalformedFileException
                        ? e.getMessage()
                        : f + ": cannot be read (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")"));
                continue;
            }
            GoldenResult r = GoldenRunner.run(c);
            out.println(r.line());
            if (r.passed()) {
                passed++;
            } else {
                failed++;
            }
        }
        out.println(passed + " passed, " + failed + " failed");
        return malformed ? 2 : failed > 0 ? 1 : 0;
    }
}
