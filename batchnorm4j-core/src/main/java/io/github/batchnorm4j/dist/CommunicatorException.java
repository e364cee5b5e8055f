package io.github.batchnorm4j.dist;

/** A collective could not complete: a rank was lost, timed out, aborted, or the ranks called different things. */
public class CommunicatorException extends RuntimeException {
    public CommunicatorException(String message) {
        super(message);
    }

    public CommunicatorException(String message, Throwable cause) {
        super(message, cause);
    }
}
