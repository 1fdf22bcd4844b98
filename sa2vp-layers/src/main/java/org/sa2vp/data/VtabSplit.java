package org.sa2vp.data;

/**
 * The four list files of a VTAB-1k task folder, as the VPT, NOAH and SA2VP code reads them: 800 training and 200
 * validation images (for choosing hyper-parameters), both together (for the final training run), and the test set.
 */
public enum VtabSplit {
    TRAIN800("train800.txt"),
    VAL200("val200.txt"),
    TRAIN800VAL200("train800val200.txt"),
    TEST("test.txt");

    private final String fileName;

    VtabSplit(String fileName) {
        this.fileName = fileName;
    }

    /** The list file's name inside the task folder. */
    public String fileName() {
        return fileName;
    }
}
