package org.sa2vp.data;

/** A dataset file is not where it was looked for; the message says how to install it or where to point. */
public class MissingDatasetException extends RuntimeException {

    public MissingDatasetException(String message) {
        super(message);
    }
}
