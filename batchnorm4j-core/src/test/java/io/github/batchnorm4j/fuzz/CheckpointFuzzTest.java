package io.github.batchnorm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.batchnorm4j.data.DataLoader;
import io.github.batchnorm4j.data.DataSet;
import io.github.batchnorm4j.data.Idx;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.optim.LrSchedule;
import io.github.batchnorm4j.optim.Sgd;
import io.github.batchnorm4j.train.Checkpoint;
import io.github.batchnorm4j.train.NormVariantConfig;
import io.github.batchnorm4j.train.RunConfig;
import io.github.batchnorm4j.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Resuming from a checkpoint as {@code train --resume} does: the run configuration and BatchNorm-variant settings
 * from the metadata ({@link RunConfig#fromMetadata}, {@link NormVariantConfig#fromMetadata}), then
 * {@link Trainer#resume} (model state, optimizer state, step) into a small MLP with BatchNorm and SGD momentum.
 * Documented: an {@link IOException} or {@link IllegalArgumentException} naming the file (the metadata readers'
 * messages name the key instead). Allocation bound: the safetensors bound plus one float copy of the optimizer state.
 */
public class CheckpointFuzzTest {
    static final Module MODEL = model();
    static final Sgd OPTIMIZER = new Sgd(MODEL.namedParameters(), 0.1, 0.9, 0, false, 0, Set.of());
    static final Trainer TRAINER = trainer();

    static Module model() {
        ModelSpec spec = new ModelSpec("mlp", "bn", "relu", 4, new int[] {1, 4, 4}, 3);
        return ModelFactory.build(spec, new SplittableRandom(1));
    }

    static Trainer trainer() {
        byte[] px = new byte[8 * 16];
        byte[] lb = new byte[8];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 37);
        }
        for (int i = 0; i < lb.length; i++) {
            lb[i] = (byte) (i % 3);
        }
        DataSet set = DataSet.of(new Idx.Array(new int[] {8, 4, 4}, px), new Idx.Array(new int[] {8}, lb), 3);
        DataLoader loader = new DataLoader(set, 4, false, true, 0, 0.5f, 0.25f);
        return new Trainer(MODEL, OPTIMIZER, LrSchedule.constant(0.1), loader, null,
                new Trainer.Config(2, 1, 0, null, null, false, Map.of()));
    }

    public static void fuzzerTestOneInput(byte[] data) {
        Path f = FuzzSupport.file(Checkpoint.FILE_NAME, data);
        FuzzSupport.bounded("checkpoint resume", data.length, 2 * SafeTensorsFuzzTest.PER_BYTE + 2, 2 * SafeTensorsFuzzTest.FIXED, () -> {
            try {
                Map<String, String> meta = Checkpoint.metadata(f);
                try {
                    RunConfig.fromMetadata(meta);
                    NormVariantConfig.fromMetadata(meta);
                } catch (IllegalArgumentException e) {
                    FuzzSupport.expectDocumented(e, null, IllegalArgumentException.class);
                }
                TRAINER.resume(f);
            } catch (IOException | IllegalArgumentException e) {
                FuzzSupport.expectDocumented(e, f, IOException.class, IllegalArgumentException.class);
            }
        });
    }

    @FuzzTest
    void checkpoint(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
