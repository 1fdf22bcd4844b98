import org.sa2vp.train.*;
import org.sa2vp.backbone.weights.*;
import java.nio.file.*;
// Run in a folder holding a copy of the runs written by runs.jsh, as resumed/ (cp -r runs resumed).
var images = NpzReader.readNpz(Path.of("resumed/images.npz")).get("images");
int[] labels = new int[12]; for (int i = 0; i < 12; i++) labels[i] = i % 3;
var data = new InMemoryImages(images, labels, 3);
var sb = new StringBuilder();
for (String m : new String[]{"sa2vp", "vpt-deep", "linear-probe"}) {
  var t = Trainer.resume(Path.of("resumed", m), data, data);
  var r = t.fit();
  var h = t.history().get(1);
  sb.append(m + "," + h.getTrainLoss() + "," + h.getValLoss() + "," + h.getValAccuracy() + "," + t.graph().params().sumNumber().doubleValue() + "\n");
}
Files.writeString(Path.of("expected.csv"), sb.toString());
/exit
