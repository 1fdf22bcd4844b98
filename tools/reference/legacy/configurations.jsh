import org.sa2vp.backbone.vit.*;
import org.sa2vp.model.*;
import org.sa2vp.baseline.*;
import org.sa2vp.train.*;
import org.sa2vp.zoo.*;
import java.nio.file.*;
var vit = PretrainedTinyVit.CONFIG.withNumClasses(0);
Files.writeString(Path.of("sa2vp.json"), Sa2vpConfig.of(vit, 9).toJson());
for (Method m : Method.values()) Files.writeString(Path.of(m.label() + ".json"), m.create(vit, 9).toJson());
Files.writeString(Path.of("sa2vp-ablation.json"), Sa2vpConfig.of(vit, 9).withGamma(0.2).withWindowSize(5).withAdapterActivation(org.sa2vp.layers.AdapterActivation.RELU).withDeepPromptLayers(java.util.List.of()).toJson());
Files.writeString(Path.of("recipe.json"), TrainingRecipe.paper().toJson());
/exit
