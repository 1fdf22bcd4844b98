package org.sa2vp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Listing the three dataset layouts, their detection, and the one-line errors before any decoding. */
class ImageSourcesTest {

    private static Path touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[]{1});
        return file;
    }

    private static String error(Runnable listing) {
        return assertThrows(IllegalArgumentException.class, listing::run).getMessage();
    }

    @Test
    void imageFolderClassesAreSortedFolderNames(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("train");
        for (String name : List.of("zebra/b.png", "zebra/a.JPG", "ant/x/1.png", "ant/0.gif", "ant/notes.txt")) {
            touch(root.resolve(name));
        }
        ImageList list = ImageSources.detect(dir, "train");
        assertEquals(List.of("ant", "zebra"), list.classNames());
        assertEquals(List.of(root.resolve("ant/0.gif"), root.resolve("ant/x/1.png"), root.resolve("zebra/a.JPG"),
                root.resolve("zebra/b.png")), list.files());
        assertArrayEquals(new int[]{0, 0, 1, 1}, list.labels());

        Files.createDirectories(root.resolve("moth"));
        assertEquals("class folder " + root.resolve("moth") + " holds no image (bmp, gif, jpeg, jpg, png)",
                error(() -> ImageSources.folder(root)));
        Path single = dir.resolve("single");
        touch(single.resolve("only/1.png"));
        assertEquals(single + " has 1 class folder, expected at least two (root/<class>/<image>)",
                error(() -> ImageSources.folder(single)));
        assertEquals("no split 'val' in " + dir + ": it holds no FGVC JSON split (train.json, val.json, test.json), no "
                + "VTAB-1k list file, and no folder 'val' (its folders: [single, train])",
                error(() -> ImageSources.detect(dir, "val")));
    }

    @Test
    void vtabListFilesThroughTheOneReader(@TempDir Path dir) throws IOException {
        touch(dir.resolve("images/a.png"));
        touch(dir.resolve("images/b c.png"));
        Files.writeString(dir.resolve("train800.txt"), "images/a.png 0\nimages/b c.png 3\n\n");
        Files.writeString(dir.resolve("test.txt"), "images/a.png 5\n");
        ImageList train = ImageSources.detect(dir, "train800");
        assertEquals(6, train.numClasses(), "largest label of all list files + 1");
        assertEquals(List.of("0", "1", "2", "3", "4", "5"), train.classNames());
        assertEquals(List.of(dir.resolve("images/a.png"), dir.resolve("images/b c.png")), train.files());
        assertArrayEquals(new int[]{0, 3}, train.labels());
        assertEquals(train, ImageSources.detect(dir, "train800.txt"));
        assertEquals(VtabTask.open(dir).entries(VtabSplit.TRAIN800).stream().map(VtabTask.Entry::image).toList(),
                train.files(), "VtabTask lists through the same reader");

        assertEquals("VTAB-1k list file " + dir.resolve("val200.txt") + " not found; " + dir
                + " has the splits [TRAIN800, TEST]", error(() -> ImageSources.vtab(dir, VtabSplit.VAL200, 0)));
        assertEquals("no VTAB-1k split 'train' in " + dir + "; it has the splits [TRAIN800, TEST]",
                error(() -> ImageSources.detect(dir, "train")));
        assertEquals(dir.resolve("test.txt") + ":1: label 5 outside the 4 classes [0, 4)",
                error(() -> ImageSources.vtab(dir, VtabSplit.TEST, 4)));
        Files.writeString(dir.resolve("test.txt"), "images/a.png 1\nimages/a.png x\n");
        assertEquals(dir.resolve("test.txt") + ":2: expected '<image path> <label >= 0>', got 'images/a.png x'",
                error(() -> ImageSources.vtab(dir, VtabSplit.TEST, 0)));
        Files.writeString(dir.resolve("test.txt"), "images/gone.png 1\n");
        assertEquals("image " + dir.resolve("images/gone.png") + " (" + dir.resolve("test.txt") + ":1) not found",
                error(() -> ImageSources.vtab(dir, VtabSplit.TEST, 0)));
    }

    @Test
    void fgvcJsonSplitsAsVptReadsThem(@TempDir Path dir) throws IOException {
        for (String name : List.of("001.Albatross/1.jpg", "001.Albatross/2.jpg", "200.Wren/3.jpg")) {
            touch(dir.resolve("images").resolve(name));
        }
        Files.writeString(dir.resolve("train.json"), "{\"200.Wren/3.jpg\": 200, \"001.Albatross/1.jpg\": 1}");
        Files.writeString(dir.resolve("test.json"), "{\"001.Albatross/2.jpg\": 1, \"200.Wren/3.jpg\": 17}");
        ImageList train = ImageSources.detect(dir, "train");
        assertEquals(List.of("1", "17", "200"), train.classNames(), "sorted ids of all splits, as written");
        assertEquals(List.of(dir.resolve("images/200.Wren/3.jpg"), dir.resolve("images/001.Albatross/1.jpg")),
                train.files(), "file order, under images/");
        assertArrayEquals(new int[]{2, 0}, train.labels());
        assertArrayEquals(new int[]{0, 1}, ImageSources.fgvc(dir, "test").labels());

        assertEquals("FGVC split file " + dir.resolve("val.json") + " not found; " + dir + " has the splits [train, "
                + "test]", error(() -> ImageSources.detect(dir, "val")));
        Files.writeString(dir.resolve("test.json"), "{\"001.Albatross/2.jpg\": \"bird\"}");
        assertEquals(dir.resolve("test.json") + ": key '001.Albatross/2.jpg': class id must be a whole number >= 0, "
                + "got \"bird\"", error(() -> ImageSources.fgvc(dir, "train")));
        Files.writeString(dir.resolve("test.json"), "{\"001.Albatross/2.jpg\": 1, \"200.Wren/4.jpg\": 200}");
        assertEquals("image " + dir.resolve("images/200.Wren/4.jpg") + " (" + dir.resolve("test.json")
                + ", key '200.Wren/4.jpg') not found", error(() -> ImageSources.fgvc(dir, "test")));

        // Stanford Cars / Oxford Flowers: keys relative to the dataset directory itself.
        Path cars = dir.resolve("cars");
        touch(cars.resolve("car_ims/1.jpg"));
        touch(cars.resolve("car_ims/2.jpg"));
        Files.writeString(cars.resolve("val.json"), "{\"car_ims/1.jpg\": 1, \"car_ims/2.jpg\": 2}");
        assertEquals(List.of(cars.resolve("car_ims/1.jpg"), cars.resolve("car_ims/2.jpg")),
                ImageSources.detect(cars, "val.json").files());
    }
}
