package org.sa2vp.backbone.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A cursor over one protobuf message in a (usually memory-mapped) buffer: the subset of the wire format that ONNX
 * uses, i.e. varints (wire type 0), 64-bit (1), length-delimited (2) and 32-bit (5) fields. Groups (3, 4) and
 * wire types 6/7 do not occur in ONNX and mark the input as not being a protobuf at all.
 *
 * <p>Positions are absolute offsets into the file, so that every error can say where it happened. A field whose
 * declared length runs past the end of the file is reported as truncation; one that only runs past its enclosing
 * message is reported as a malformed (non-ONNX) file.
 */
final class ProtoReader {

    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final ByteBuffer buffer;
    private final String source;
    private final int end;
    private int position;

    /** Reads {@code [start, end)} of {@code buffer}; {@code source} is the file name used in error messages. */
    ProtoReader(ByteBuffer buffer, int start, int end, String source) {
        this.buffer = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
        this.position = start;
        this.end = end;
    }

    boolean hasMore() {
        return position < end;
    }

    int position() {
        return position;
    }

    /** A second cursor over the same bytes, at this one's position: to read a message twice. */
    ProtoReader copy() {
        return new ProtoReader(buffer, position, end, source);
    }

    /**
     * The next tag as {@code fieldNumber << 3 | wireType}; rejects wire types that ONNX never writes and field
     * number 0, which protobuf forbids. Both are the usual first symptom of a file that is not a protobuf.
     */
    int readTag() {
        int at = position;
        long tag = readVarint();
        int wireType = (int) (tag & 7);
        long field = tag >>> 3;
        if (field == 0 || field > 0x1FFFFFFFL
                || (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH_DELIMITED && wireType != FIXED32)) {
            throw notOnnx("invalid protobuf tag 0x" + Long.toHexString(tag) + " at byte " + at);
        }
        return (int) tag;
    }

    static int fieldNumber(int tag) {
        return tag >>> 3;
    }

    static int wireType(int tag) {
        return tag & 7;
    }

    long readVarint() {
        int at = position;
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position >= end) {
                throw pastEnd(at, end);
            }
            byte b = buffer.get(position++);
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw notOnnx("varint longer than 10 bytes at byte " + at);
    }

    float readFixed32AsFloat() {
        require(4);
        float value = buffer.getFloat(position);
        position += 4;
        return value;
    }

    double readFixed64AsDouble() {
        require(8);
        double value = buffer.getDouble(position);
        position += 8;
        return value;
    }

    /** Reads a length prefix and returns a reader over the payload, leaving this cursor just past it. */
    ProtoReader readMessage() {
        int length = readLength();
        ProtoReader nested = new ProtoReader(buffer, position, position + length, source);
        position += length;
        return nested;
    }

    /** Reads a length prefix and returns the payload as a little-endian view (no copy). */
    ByteBuffer readBytesView() {
        int length = readLength();
        ByteBuffer view = buffer.duplicate().position(position).limit(position + length).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        position += length;
        return view;
    }

    String readString() {
        int length = readLength();
        byte[] bytes = new byte[length];
        buffer.get(position, bytes);
        position += length;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Skips a field of any supported wire type. */
    void skip(int wireType) {
        switch (wireType) {
            case VARINT -> readVarint();
            case FIXED64 -> advance(8);
            case LENGTH_DELIMITED -> advance(readLength());
            case FIXED32 -> advance(4);
            default -> throw notOnnx("invalid wire type " + wireType + " at byte " + position);
        }
    }

    private void advance(int bytes) {
        require(bytes);
        position += bytes;
    }

    /** Fails unless the field just read has the wire type the ONNX schema gives it. */
    void expectWireType(int tag, int expected, String what) {
        if (wireType(tag) != expected) {
            throw notOnnx(what + " (field " + fieldNumber(tag) + ") has wire type " + wireType(tag)
                    + " instead of " + expected + " near byte " + position);
        }
    }

    CheckpointException notOnnx(String detail) {
        return new CheckpointException(source + ": not an ONNX model: " + detail
                + "; expected an ONNX ModelProto (.onnx file)");
    }

    private int readLength() {
        int at = position;
        long length = readVarint();
        if (length < 0 || position + length > end) {
            throw pastEnd(at, position + length);
        }
        return (int) length;
    }

    private void require(int bytes) {
        if (position + bytes > end) {
            throw pastEnd(position, (long) position + bytes);
        }
    }

    /**
     * A read past {@code end}: truncation if it also runs past the end of the file, otherwise a length that does
     * not fit its enclosing message (a corrupt or non-ONNX file).
     */
    private CheckpointException pastEnd(int at, long wantedEnd) {
        int fileSize = buffer.capacity();
        if (wantedEnd > fileSize || end == fileSize) {
            return new CheckpointException(source + ": truncated protobuf at byte " + at + " (file is " + fileSize
                    + " bytes); expected a complete ONNX ModelProto");
        }
        return notOnnx("field at byte " + at + " runs past its enclosing message (ends at byte " + end + ")");
    }
}
