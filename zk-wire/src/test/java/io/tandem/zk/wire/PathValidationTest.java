package io.tandem.zk.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.apache.zookeeper.common.PathUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PathValidationTest {

    @ParameterizedTest
    @ValueSource(strings = {"/", "/a", "/a/b", "/a.b", "/..a", "/a..", "/.a/b.", "/brokers/ids/1", "/é/中", "/a b"})
    void validPathsShouldBeAccepted(String path) {
        assertTrue(PathValidation.isValid(path), path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a", "/a/", "/a//b", "//", "/a/./b", "/a/../b", "/.", "/..", "/a/.", "/a/..",
        "/a\u0000b", "/a\u0001", "/a\u001f", "/a\u007f", "/a\u009f", "/a\ud800", "/a\ue000", "/a\uf8ff", "/a\ufff0",
        "/a\uffff"})
    void invalidPathsShouldBeRejected(String path) {
        assertFalse(PathValidation.isValid(path), path);
        assertThrows(IllegalArgumentException.class, () -> PathValidation.requireValid(path));
    }

    @Test
    void nullPathShouldBeRejected() {
        assertFalse(PathValidation.isValid(null));
    }

    @Test
    void sequentialCreateShouldValidateThePathWithACounterDigitAppended() {
        assertTrue(PathValidation.invalidReason("/a/", true) == null, "the server appends the counter to /a/");
        assertTrue(PathValidation.invalidReason("/a/", false) != null);
        assertTrue(PathValidation.invalidReason("/a//", true) != null);
    }

    @Test
    void verdictsShouldMatchApachePathUtilsOnRandomPaths() {
        String alphabet = "/./a\u0000\u001f\u007f\u0080\u00a0\ud7ff\ud800\uf8ff\uf900\ufff0";
        Random random = new Random(42);
        for (int i = 0; i < 5_000; i++) {
            StringBuilder path = new StringBuilder();
            int length = random.nextInt(8);
            for (int j = 0; j < length; j++) {
                path.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            boolean sequential = random.nextBoolean();
            String theirs = apacheVerdict(path.toString(), sequential);
            assertEquals(theirs, PathValidation.invalidReason(path.toString(), sequential), "path " + escape(path));
        }
    }

    private static String apacheVerdict(String path, boolean sequential) {
        try {
            PathUtils.validatePath(path, sequential);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static String escape(CharSequence text) {
        StringBuilder out = new StringBuilder();
        text.chars().forEach(c -> out.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", c) : (char) c));
        return out.toString();
    }
}
