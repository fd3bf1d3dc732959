package io.tandem.server.zookeeper;

/** Apache's PathUtils.validatePath rules; a violation is BadArguments for the request that carried the path. */
final class Paths {
    static void validate(String path) throws ZkException {
        if (!isValid(path)) {
            throw new ZkException(ZkException.BAD_ARGUMENTS, path);
        }
    }

    static boolean isValid(String path) {
        if (path == null || path.isEmpty() || path.charAt(0) != '/') {
            return false;
        }
        if (path.length() == 1) {
            return true;
        }
        if (path.charAt(path.length() - 1) == '/') {
            return false;
        }
        char last = '/';
        for (int i = 1; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == 0 || (c == '/' && last == '/')) {
                return false;
            }
            if (c == '.' && last == '.') {
                if (path.charAt(i - 2) == '/' && (i + 1 == path.length() || path.charAt(i + 1) == '/')) {
                    return false;
                }
            } else if (c == '.') {
                if (path.charAt(i - 1) == '/' && (i + 1 == path.length() || path.charAt(i + 1) == '/')) {
                    return false;
                }
            } else if (c > '\u0000' && c <= '\u001f' || c >= '\u007f' && c <= '\u009F'
                    || c >= '\ud800' && c <= '\uf8ff' || c >= '\ufff0' && c <= '\uffff') {
                return false;
            }
            last = c;
        }
        return true;
    }

    private Paths() {
    }
}
