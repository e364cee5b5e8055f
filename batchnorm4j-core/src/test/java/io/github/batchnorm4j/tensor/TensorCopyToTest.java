package io.github.batchnorm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link Tensor#copyTo}: the values of {@code to(format)} written into a given buffer. */
class TensorCopyToTest {
    private static Tensor counting(int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = i;
        }
        return t;
    }

    @Test
    void copiesInEitherFormat() {
        Tensor x = counting(2, 3, 4, 5);
        for (MemoryFormat from : MemoryFormat.values()) {
            Tensor src = x.to(from);
            for (MemoryFormat to : MemoryFormat.values()) {
                Tensor out = Tensor.zeros(to, 2, 3, 4, 5);
                assertSame(out, src.copyTo(out));
                // element [n, c, h, w] keeps its value whatever the storage order
                assertArrayEquals(x.data(), out.toContiguousArray(), from + " -> " + to);
            }
        }
        // a channels-last element lives at ((n * S + s) * C + c): [1, 2, 3, 4] holds x's value 1*60 + 2*20 + 3*5 + 4
        Tensor cl = x.copyTo(Tensor.zeros(MemoryFormat.CHANNELS_LAST, 2, 3, 4, 5));
        assertEquals(119f, cl.data()[(20 + 3 * 5 + 4) * 3 + 2]);
    }

    @Test
    void rejectsAnotherShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> counting(2, 3).copyTo(Tensor.zeros(3, 2)));
        assertEquals("Expected a destination of shape [2, 3], got [3, 2]", e.getMessage());
    }

    @Test
    void comparesShapesWhateverTheFormat() {
        Tensor a = Tensor.zeros(2, 3, 4, 5);
        Tensor b = Tensor.zeros(MemoryFormat.CHANNELS_LAST, 2, 3, 4, 5);
        assertTrue(a.sameShape(b));
        assertTrue(a.hasShape(new int[] {2, 3, 4, 5}));
        assertFalse(a.sameShape(Tensor.zeros(2, 3, 5, 4)));
        assertFalse(a.hasShape(new int[] {2, 3, 4}));
        assertFalse(Tensor.zeros(6).sameShape(Tensor.zeros(2, 3)));
    }
}
