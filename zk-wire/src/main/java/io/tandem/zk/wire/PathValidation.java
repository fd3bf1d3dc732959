package io.tandem.zk.wire;

/**
 * ZooKeeper's znode path rules (Apache's PathUtils.validatePath): absolute, no trailing slash except the root, no empty,
 * "." or ".." segments, no null character and none of the control or reserved Unicode ranges. Servers answer an
 * invalid path with BadArguments; clients refuse it before sending.
 */
public final class PathValidation {

    private PathValidation() {
    }

    /** Why {@code path} is not a valid znode path, or null when it is. */
    public static String invalidReason(String path) {
        if (path == null) {
            return "Path cannot be null";
        }
        if (path.isEmpty()) {
            return "Path length must be > 0";
        }
        if (path.charAt(0) != '/') {
            return "Path must start with / character";
        }
        if (path.length() == 1) {
            return null;
        }
        if (path.charAt(path.length() - 1) == '/') {
            return "Path must not end with / character";
        }
        char previous = '/';
        for (int i = 1; i < path.length(); previous = path.charAt(i), i++) {
            char c = path.charAt(i);
            boolean segmentEndsHere = i + 1 == path.length() || path.charAt(i + 1) == '/';
            if (c == 0) {
                return describe(path, "null character not allowed @" + i);
            } else if (c == '/' && previous == '/') {
                return describe(path, "empty node name specified @" + i);
            } else if (c == '.' && previous == '.') {
                if (path.charAt(i - 2) == '/' && segmentEndsHere) {
                    return describe(path, "relative paths not allowed @" + i);
                }
            } else if (c == '.') {
                if (previous == '/' && segmentEndsHere) {
                    return describe(path, "relative paths not allowed @" + i);
                }
            } else if (isForbiddenChar(c)) {
                return describe(path, "invalid character @" + i);
            }
        }
        return null;
    }

    /** Sequential creates are checked with the counter's first digit appended, as the server will name the node. */
    public static String invalidReason(String path, boolean sequential) {
        return invalidReason(sequential && path != null ? path + "1" : path);
    }

    public static boolean isValid(String path) {
        return invalidReason(path) == null;
    }

    /** Throws IllegalArgumentException with Apache's wording when the path is invalid. */
    public static void requireValid(String path, boolean sequential) {
        String reason = invalidReason(path, sequential);
        if (reason != null) {
            throw new IllegalArgumentException(reason);
        }
    }

    public static void requireValid(String path) {
        requireValid(path, false);
    }

    private static boolean isForbiddenChar(char c) {
        return c > '\u0000' && c <= '\u001f'
                || c >= '\u007f' && c <= '\u009f'
                || c >= '\ud800' && c <= '\uf8ff'
                || c >= '\ufff0';
    }

    private static String describe(String path, String reason) {
        return "Invalid path string \"" + path + "\" caused by " + reason;
    }
}
