package io.github.batchnorm4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataSourceTest {
    @TempDir
    Path dir;

    @Test
    void validationIsACountOrAFractionBelowOne() {
        assertEquals(5000, DataSource.validationCount("5000", 60000));
        assertEquals(6000, DataSource.validationCount("0.1", 60000));
        assertEquals(2, DataSource.validationCount("0.25", 7), "1.75 rounds to 2");
        assertEquals(0, DataSource.validationCount("0", 10));
        assertEquals(9, DataSource.validationCount("50", 10), "one item stays for training");
        assertEquals("Expected --validation as a count (5000) or a fraction below 1 (0.1), got 1.5",
                assertThrows(IllegalArgumentException.class, () -> DataSource.validationCount("1.5", 10)).getMessage());
        assertEquals("Expected --validation as a count (5000) or a fraction below 1 (0.1), got -0.1",
                assertThrows(IllegalArgumentException.class, () -> DataSource.validationCount("-0.1", 10)).getMessage());
    }

    @Test
    void csvClassesAreOrderedNumericallyAndQuotedFieldsKeepTheirCommas() throws IOException {
        Path f = Files.writeString(dir.resolve("t.csv"), "\"size, cm\",label\n1.5,10\n2,9\n\"3\",10\n4,2\n");
        DataLocator.Splits s = CsvTable.read(f, "label", false, null, null);
        assertEquals(List.of("2", "9", "10"), s.info().classes());
        assertEquals(List.of("size, cm"), s.info().columns());
        float[] x = new float[1];
        int[] labels = new int[4];
        float[] values = new float[4];
        for (int i = 0; i < 4; i++) {
            s.train().copyItem(i, x, 0, 0f, 1f);
            values[i] = x[0];
            labels[i] = s.train().label(i);
        }
        assertEquals(List.of(1.5f, 2f, 3f, 4f), List.of(values[0], values[1], values[2], values[3]));
        assertEquals(List.of(2, 1, 2, 0), List.of(labels[0], labels[1], labels[2], labels[3]));
        // standardised with the population statistics: mean 2.625, std sqrt(0.921875)
        float[][] ms = s.train().featureMeanStd();
        assertEquals(2.625f, ms[0][0], 1e-6f);
        assertEquals((float) Math.sqrt(0.921875), ms[1][0], 1e-6f);
        s.train().standardized(ms[0], ms[1]).copyItem(3, x, 0, 0f, 1f);
        assertEquals((4 - 2.625) / Math.sqrt(0.921875), x[0], 1e-6);
    }
}
