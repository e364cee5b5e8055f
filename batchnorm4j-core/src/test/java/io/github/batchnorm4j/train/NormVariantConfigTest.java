package io.github.batchnorm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.GhostBatchNorm;
import io.github.batchnorm4j.nn.norm.RenormSchedule;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NormVariantConfigTest {

    @Test
    void schedulesParseAndRoundTripThroughMetadata() {
        RenormSchedule r = NormVariantConfig.parseSchedule("--rmax", "3:100:1000", 1);
        assertEquals(new RenormSchedule(1, 3, 100, 1000), r);
        assertEquals(RenormSchedule.constant(2.5), NormVariantConfig.parseSchedule("--rmax", "2.5", 1));
        assertEquals("3:100:1000", NormVariantConfig.formatSchedule(r));
        assertEquals("2.5", NormVariantConfig.formatSchedule(RenormSchedule.constant(2.5)));
        NormVariantConfig c = new NormVariantConfig(8, r, NormVariantConfig.parseSchedule("--dmax", "5:100:500", 0),
                true);
        assertEquals(c, NormVariantConfig.fromMetadata(c.toMetadata()));
        assertEquals(NormVariantConfig.DEFAULT, NormVariantConfig.fromMetadata(Map.of("run.model", "mlp")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NormVariantConfig.parseSchedule("--dmax", "5:100", 0));
        assertEquals("Expected --dmax as LIMIT or LIMIT:START:END (e.g. 3:5000:40000), got 5:100", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new NormVariantConfig(0, r, r, false));
        assertEquals("Expected a ghost batch size > 0, got 0", e.getMessage());
    }

    @Test
    void brnRunningSigmaParsesRoundTripsAndReachesTheLayer() {
        assertEquals(BatchRenorm.RunningSigma.SIGMA, NormVariantConfig.parseRunningSigma("sigma"));
        assertEquals(BatchRenorm.RunningSigma.VARIANCE, NormVariantConfig.parseRunningSigma("variance"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NormVariantConfig.parseRunningSigma("std"));
        assertEquals("Expected --brn-running-sigma variance or sigma, got std", e.getMessage());
        assertEquals(BatchRenorm.RunningSigma.VARIANCE, NormVariantConfig.DEFAULT.runningSigma());
        NormVariantConfig c = new NormVariantConfig(4, RenormSchedule.constant(2), RenormSchedule.constant(1), false,
                BatchRenorm.RunningSigma.SIGMA);
        assertEquals(c, NormVariantConfig.fromMetadata(c.toMetadata()));
        assertEquals("sigma", c.toMetadata().get("variant.brnRunningSigma"));
        assertEquals(BatchRenorm.RunningSigma.SIGMA,
                ((BatchRenorm) c.batchNormFactory("brn").apply(3)).runningSigma());
        e = assertThrows(IllegalArgumentException.class,
                () -> NormVariantConfig.fromMetadata(Map.of("variant.brnRunningSigma", "x")));
        assertEquals("Expected valid variant.* metadata in the checkpoint, got Expected --brn-running-sigma variance"
                + " or sigma, got x", e.getMessage());
    }

    @Test
    void factoriesMakeTheChosenLayer() {
        NormVariantConfig c = new NormVariantConfig(4, RenormSchedule.constant(2), RenormSchedule.constant(1), false);
        assertInstanceOf(BatchRenorm.class, c.batchNormFactory("brn").apply(3));
        assertEquals(4, assertInstanceOf(GhostBatchNorm.class, c.batchNormFactory("ghost").apply(3)).ghostBatchSize());
        assertEquals(BatchNorm.class, c.batchNormFactory("bn").apply(3).getClass());
        assertNull(c.batchNormFactory("gn"));
        assertEquals(2.0, ((BatchRenorm) c.batchNormFactory("brn").apply(3)).rmaxSchedule().at(0));
    }
}
