package org.sa2vp.cli;

import org.sa2vp.data.VtabTask;
import org.sa2vp.zoo.minivtab.MiniVtab;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --out} and {@code --data} of the mini-VTAB commands, and where their tasks come from. */
final class MiniVtabFolders {

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--data", paramLabel = "DIR", description = "mini-VTAB tasks in VTAB-1k layout (default: "
            + "generated into --out/data from the bundled sources)")
    Path data;

    /**
     * The tasks, in order: read from {@code --data}, or from {@code --out/data}, where the missing ones are
     * generated first (deterministically, {@link MiniVtab#DEFAULT_SEED}).
     */
    Map<MiniVtab.Task, VtabTask> open(List<MiniVtab.Task> tasks) {
        Path root = data != null ? data : out.resolve("data");
        Map<MiniVtab.Task, VtabTask> opened = new LinkedHashMap<>();
        for (MiniVtab.Task task : tasks) {
            Path folder = root.resolve(task.folderName());
            if (data == null && !Files.exists(folder.resolve("test.txt"))) {
                MiniVtab.generate(root, MiniVtab.DEFAULT_SEED, task);
            }
            opened.put(task, VtabTask.open(folder));
        }
        return opened;
    }
}
