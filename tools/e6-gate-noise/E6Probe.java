import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.repro.ReproData;
import io.github.batchnorm4j.repro.RunResult;
import io.github.batchnorm4j.repro.RunSpec;
import io.github.batchnorm4j.repro.Runner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Samples the E6a runs of one norm and batch size over many seeds, exactly as `./bn4j reproduce` runs them, and
 * prints the test accuracy at the five evaluations of the last fifth of the epoch (the last one is what the
 * gates use). Two runs side by side, one thread each. Used to measure how often the protocol's E6a(a) gate
 * fails by chance; see README.md here.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp batchnorm4j-cli/target/bn4j.jar
 * tools/e6-gate-noise/E6Probe.java GN|LN|BN|BRN BATCH FIRST_SEED END_SEED [cnn]}; with {@code cnn}, E6b's CNN
 * (conv 16-32, FC 128, SGD momentum 0.9, lr = 0.1·B/32) instead of E6a's MLP.
 */
public class E6Probe {
    public static void main(String[] a) throws Exception {
        DataLocator.Splits sp = DataLocator.load(null, System.getenv(DataLocator.ENV));
        ReproData rd = new ReproData(sp.train(), sp.test(), "Fashion-MNIST");
        String norm = a[0];
        int b = Integer.parseInt(a[1]);
        int s0 = Integer.parseInt(a[2]), s1 = Integer.parseInt(a[3]);
        boolean cnn = a.length > 4 && a[4].equals("cnn");
        long steps = 60_000 / b; // one epoch
        long[] at = new long[5];
        for (int i = 0; i < 5; i++) {
            at[i] = steps * (16 + i) / 20;
        }
        ExecutorService ex = Executors.newFixedThreadPool(2);
        List<Future<String>> out = new ArrayList<>();
        for (int s = s0; s < s1; s++) {
            RunSpec spec = cnn
                    ? RunSpec.cnn("E6b", norm.toLowerCase() + "@B" + b, s, new int[] {16, 32},
                            RunSpec.Norm.valueOf(norm), b, 0.1 * b / 32, steps, at)
                    : RunSpec.mlp("E6a", norm.toLowerCase() + "@B" + b, s, new int[] {100, 100, 100},
                            RunSpec.Activation.RELU, RunSpec.Norm.valueOf(norm), b, 0.1 * b / 60, steps, at);
            int seed = s;
            out.add(ex.submit(() -> norm + " B" + b + " s" + seed + " "
                    + Arrays.toString(Runner.run(spec, rd, x -> { }).testAcc())));
        }
        for (Future<String> f : out) {
            System.out.println(f.get());
        }
        ex.shutdown();
    }
}
