package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests of image sets ({@link LabelledImages#fingerprint()}), fed in a fixed byte order. */
public final class Fingerprints {

    private Fingerprints() {
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Adds the count, then every value as a big-endian int. */
    public static void update(MessageDigest digest, int[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * (values.length + 1)).order(ByteOrder.BIG_ENDIAN);
        buffer.putInt(values.length);
        for (int v : values) {
            buffer.putInt(v);
        }
        digest.update(buffer.array());
    }

    /** Adds the shape, then the values as big-endian float32 in C order (so the digest ignores the array's layout). */
    public static void update(MessageDigest digest, INDArray values) {
        update(digest, java.util.Arrays.stream(values.shape()).mapToInt(Math::toIntExact).toArray());
        float[] data = values.castTo(DataType.FLOAT).dup('c').data().asFloat();
        ByteBuffer buffer = ByteBuffer.allocate(4 * data.length).order(ByteOrder.BIG_ENDIAN);
        for (float v : data) {
            buffer.putFloat(v);
        }
        digest.update(buffer.array());
    }

    /** Adds a string as UTF-8 with its length. */
    public static void update(MessageDigest digest, String value) {
        byte[] bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        update(digest, new int[]{bytes.length});
        digest.update(bytes);
    }

    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }
}
