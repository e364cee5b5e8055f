package io.github.batchnorm4j.loss;

import io.github.batchnorm4j.tensor.Tensor;

/**
 * Softmax cross-entropy with mean reduction, fused with log-softmax: for logits {@code x} of shape {@code (N, K)}
 * and class indices {@code t}, {@code loss = (1/N) sum_n [log sum_k exp(x[n,k] - max_n) + max_n - x[n, t_n]]}.
 * Subtracting the row maximum keeps every {@code exp} in (0, 1], so large logits neither overflow nor lose the
 * loss; the sums run in double.
 *
 * <p>{@link #backward()} returns {@code (softmax(x) - onehot(t)) / N}, a layer-held tensor reused by the next
 * call. {@link #correct()} counts rows whose first maximal logit is the target.
 */
public final class CrossEntropyLoss {
    private Tensor grad;
    private int correct;
    private boolean ready;

    /** The mean loss over the batch; remembers the gradient for {@link #backward()}. */
    public double forward(Tensor logits, int[] targets) {
        if (logits.rank() != 2) {
            throw new IllegalArgumentException("CrossEntropyLoss: expected logits of shape [N, K], got "
                    + logits.shapeString());
        }
        int n = logits.dim(0);
        int k = logits.dim(1);
        if (targets.length != n) {
            throw new IllegalArgumentException("CrossEntropyLoss: expected " + n + " targets for logits of shape "
                    + logits.shapeString() + ", got " + targets.length);
        }
        for (int i = 0; i < n; i++) {
            if (targets[i] < 0 || targets[i] >= k) {
                throw new IllegalArgumentException("CrossEntropyLoss: expected targets in [0, " + k + "), got "
                        + targets[i] + " at index " + i);
            }
        }
        if (grad == null || grad.dim(0) != n || grad.dim(1) != k) {
            grad = Tensor.zeros(n, k);
        }
        float[] x = logits.data();
        float[] g = grad.data();
        double total = 0;
        int hits = 0;
        double invN = n == 0 ? 0 : 1.0 / n;
        for (int i = 0; i < n; i++) {
            int row = i * k;
            int arg = 0;
            float max = x[row];
            for (int j = 1; j < k; j++) {
                if (x[row + j] > max) {
                    max = x[row + j];
                    arg = j;
                }
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                double e = Math.exp((double) x[row + j] - max);
                g[row + j] = (float) e; // provisional: exp, normalised below
                sum += e;
            }
            double lse = Math.log(sum) + max;
            total += lse - x[row + targets[i]];
            double scale = invN / sum;
            for (int j = 0; j < k; j++) {
                g[row + j] = (float) (g[row + j] * scale);
            }
            g[row + targets[i]] = (float) ((Math.exp((double) x[row + targets[i]] - max) / sum - 1.0) * invN);
            if (arg == targets[i]) {
                hits++;
            }
        }
        correct = hits;
        ready = true;
        return n == 0 ? Double.NaN : total * invN;
    }

    /** d loss / d logits for the last forward: {@code (softmax - onehot) / N}. */
    public Tensor backward() {
        if (!ready) {
            throw new IllegalStateException("CrossEntropyLoss: backward called before forward");
        }
        return grad;
    }

    /** Rows of the last forward whose arg-max logit equals the target. */
    public int correct() {
        return correct;
    }
}
