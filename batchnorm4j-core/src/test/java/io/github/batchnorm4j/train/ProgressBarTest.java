package io.github.batchnorm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    @Test
    void rendersStepLossSpeedAndEta() {
        // 25 of 100 steps: a quarter of the 30 cells filled (7), then the arrow head.
        assertEquals("[=======>                      ] 25/100 loss 0.5000 1234 img/s ETA 1:01:05",
                ProgressBar.render(25, 100, 0.5, 1234.4, 3665));
        assertEquals("[==============================] 100/100 loss 0.1235 10 img/s ETA 0:00:00",
                ProgressBar.render(100, 100, 0.12345, 10, 0));
    }

    @Test
    void redrawsInPlaceOnATerminal() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(b, true, StandardCharsets.UTF_8), 4, true);
        bar.update(4, 1, 2, 0, true);
        bar.finish();
        assertEquals("\r" + ProgressBar.render(4, 4, 1, 2, 0) + System.lineSeparator(),
                b.toString(StandardCharsets.UTF_8));
    }
}
