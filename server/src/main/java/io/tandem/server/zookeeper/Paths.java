package io.tandem.server.zookeeper;

import io.tandem.zk.wire.PathValidation;

/**
 * Apache's PathUtils.validatePath rules (implemented once, in zk-wire's {@link PathValidation}); a violation is
 * BadArguments for the request that carried the path.
 */
final class Paths {
    static void validate(String path) throws ZkException {
        if (!isValid(path)) {
            throw new ZkException(ZkException.BAD_ARGUMENTS, path);
        }
    }

    static boolean isValid(String path) {
        return PathValidation.isValid(path);
    }

    private Paths() {
    }
}
