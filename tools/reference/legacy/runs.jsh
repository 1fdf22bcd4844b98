import org.sa2vp.backbone.vit.*;
import org.sa2vp.model.*;
import org.sa2vp.baseline.*;
import org.sa2vp.train.*;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.buffer.DataType;
import java.nio.file.*;
var vit = VisionTransformerConfig.builder().name("custom").inChannels(1).imageHeight(8).imageWidth(8).patchSize(4).hiddenSize(8).depth(3).numHeads(2).build().validated();
Nd4j.getRandom().setSeed(7);
var images = Nd4j.rand(DataType.FLOAT, 12, 1, 8, 8);
int[] labels = new int[12]; for (int i = 0; i < 12; i++) labels[i] = i % 3;
var data = new InMemoryImages(images, labels, 3);
var recipe = TrainingRecipe.builder().epochs(2).warmupEpochs(1).batchSize(4).learningRate(1e-2).seed(5).build().validated();
Files.createDirectories(Path.of("runs"));
for (Method m : new Method[]{Method.SA2VP, Method.VPT_DEEP, Method.LINEAR_PROBE}) {
  TuningMethod config = m.create(vit, 3);
  var graph = Trainer.newGraph(config, recipe, data.size());
  var t = Trainer.start(graph, config, recipe, data, data, Path.of("runs", m.label()));
  t.addListener(new Trainer.Listener() { public void epochDone(Trainer tr, EpochRecord r) { tr.requestStop(); } });
  System.out.println(m + " " + t.fit());
}
/exit
