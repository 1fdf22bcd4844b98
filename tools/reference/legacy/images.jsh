import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.buffer.DataType;
import java.nio.file.*;
Nd4j.getRandom().setSeed(7);
var images = Nd4j.rand(DataType.FLOAT, 12, 1, 8, 8);
org.sa2vp.backbone.weights.NpzWriter.writeNpz(Path.of("runs/images.npz"), java.util.Map.of("images", images));
/exit
