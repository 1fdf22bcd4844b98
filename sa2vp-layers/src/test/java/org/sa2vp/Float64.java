package org.sa2vp;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code @ExtendWith(Float64.class)}: the test class runs with float64 as ND4J's default floating-point type
 * (gradient checks, exact comparisons), and the previous default is restored after its last test.
 */
public final class Float64 implements BeforeAllCallback, AfterAllCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(Float64.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NAMESPACE).put(DataType.class, Nd4j.defaultFloatingPointType());
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        DataType previous = context.getStore(NAMESPACE).get(DataType.class, DataType.class);
        Nd4j.setDefaultDataTypes(previous, previous);
    }
}
