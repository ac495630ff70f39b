"""The two kinds of training data a recipe declares: aligned pairs or two unpaired domains.

Each kind adds its data options (the named sets it knows, what `--data-dir` holds) and loads
`(train, validation, steps_per_epoch)`: the training and held-out pipelines of (input,
target) batches, float32 [N, H, W, 3] in [-1, 1], and the batches of one pass over the
training data.
"""

from kgan.data import DIRECTIONS, paired_source, prepare_pairs
from kgan.data.folders import ON_BAD_IMAGE, describe_folder, has_paired_split
from kgan.data.paired import BUILT_IN, DOWNLOADABLE
from kgan.data.tfds_cycle_gan import CYCLE_GAN_SETS
from kgan.data.tfds_pix2pix import PIX2PIX_SETS
from kgan.data.unpaired import prepare_unpaired, steps_per_epoch, unpaired_source


class PairedData:
    """(input, target) pairs, as pix2pix trains on: `train`/`val` splits, `--direction`."""

    paired = True  # the targets are the inputs' ground truth: PSNR/SSIM can be scored
    datasets = BUILT_IN + DOWNLOADABLE
    dataset_help = ("named data set (default: bluemarble, built in); the others are "
                    "downloaded once through TFDS (pix2pix/<name>) into --tfds-dir")
    data_dir_help = ("your own folder, used instead of --dataset: train/ val/ test/ of A|B "
                     "images (A left), or A/<split>/ and B/<split>/ matched by file name; "
                     "JPEG or PNG, any size")
    epoch = "one pass over the training set"
    samples = "test examples in each sample grid"
    evaluated = (", PSNR and SSIM of the generator's outputs for validation inputs against "
                 "their targets,")

    def add_arguments(self, group):
        group.add_argument("--direction", default="AtoB", choices=DIRECTIONS,
                           help="AtoB: left half -> right half (default); BtoA the reverse")

    def has_validation(self, options):
        """Whether the held-out pairs are a validation split apart from the test split (the
        facades and night2day archives, a folder with val/); bluemarble, maps and cityscapes
        have none, and their held-out pairs are the test split."""
        if options.data_dir:
            return has_paired_split(options.data_dir, "val")
        return options.dataset in PIX2PIX_SETS and {"val", "test"} <= set(
            PIX2PIX_SETS[options.dataset][0])

    def sources(self, options):
        """The (train, val) sources of unbatched pairs; every file of a --data-dir is checked."""
        if options.data_dir:
            print(f"data: {describe_folder(options.data_dir)}")
        train, val = (
            paired_source(options.dataset, split, options.data_dir, options.image_size,
                          tfds_dir=options.tfds_dir, on_bad_image=options.on_bad_image)
            for split in ("train", "val")
        )
        print(f"data: {int(train.cardinality())} training pairs, "
              f"{int(val.cardinality())} validation pairs")
        return train, val

    def steps_per_epoch(self, options, sources):
        """Batches in one pass over the training pairs of `sources(options)` (at least 1)."""
        return max(int(sources[0].cardinality()) // options.batch_size, 1)

    def pipelines(self, options, sources, start_batch=0):
        """`(train, validation)` batches from `sources(options)`; the training pipeline
        starts at batch `start_batch` of its seeded sequence."""
        train, val = sources
        return (
            prepare_pairs(train, options.image_size, options.batch_size, options.direction,
                          training=True, augment=not options.augment_on_device,
                          seed=options.seed, start_batch=start_batch),
            prepare_pairs(val, options.image_size, options.batch_size, options.direction),
        )


class UnpairedData:
    """Images of two domains A and B, as CycleGAN trains on: trainA/ trainB/ testA/ testB/.

    The held-out batches are (test A, test B): real images of the output domain, not the
    inputs' translations. An epoch shows every image of the larger domain once.
    """

    paired = False
    datasets = BUILT_IN + CYCLE_GAN_SETS
    dataset_help = ("named data set (default: bluemarble, built in: satellite tiles A, map "
                    "tiles B, paired only for evaluation); the others are downloaded once "
                    "through TFDS (cycle_gan/<name>) into --tfds-dir")
    data_dir_help = ("your own folder with trainA/ trainB/ testA/ testB/ (JPEG or PNG, any "
                     "size), used instead of --dataset")
    epoch = "one pass over the larger domain"
    samples = "test examples of each domain in each sample grid"
    evaluated = (" of the translations of test A images against the test B images "
                 "(unpaired: no PSNR/SSIM)")

    def add_arguments(self, group):
        pass

    def has_validation(self, options):
        """False: the held-out images are the test split (CycleGAN sets have no other)."""
        return False

    def sources(self, options):
        """The (train A, train B, test A, test B) sources of unbatched images; every file of
        a --data-dir is checked."""
        if options.data_dir:
            print(f"data: {describe_folder(options.data_dir)}")
        sources = tuple(
            unpaired_source(options.dataset, domain, split, options.data_dir,
                            options.image_size, tfds_dir=options.tfds_dir,
                            on_bad_image=options.on_bad_image)
            for split in ("train", "test") for domain in ("A", "B")
        )
        train_a, train_b, test_a, test_b = (int(s.cardinality()) for s in sources)
        print(f"data: {train_a} A and {train_b} B training images, {test_a} A and {test_b} B "
              "test images")
        return sources

    def steps_per_epoch(self, options, sources):
        """Batches in one pass over the larger training domain of `sources(options)`."""
        return steps_per_epoch(sources[0], sources[1], options.batch_size)

    def pipelines(self, options, sources, start_batch=0):
        """`(train, validation)` batches from `sources(options)`; the training pipeline
        starts at batch `start_batch` of its seeded sequence."""
        train_a, train_b, test_a, test_b = sources
        return (
            prepare_unpaired(train_a, train_b, options.image_size, options.batch_size,
                             training=True, augment=not options.augment_on_device,
                             seed=options.seed, start_batch=start_batch),
            prepare_unpaired(test_a, test_b, options.image_size, options.batch_size),
        )


def add_data_arguments(parser, data):
    """The "data" option group for a kind of data; returns the group."""
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", default="bluemarble", choices=data.datasets,
                       help=data.dataset_help)
    group.add_argument("--data-dir", help=data.data_dir_help)
    group.add_argument("--tfds-dir", help="TFDS data dir for named sets (default: "
                       "$TFDS_DATA_DIR or ~/tensorflow_datasets); offline, put the archive in "
                       "<tfds-dir>/downloads/manual/")
    group.add_argument("--on-bad-image", default="error", choices=ON_BAD_IMAGE,
                       help="a truncated, non-image or misshapen file in --data-dir: stop "
                       "before training (error, default) or leave it out (skip)")
    data.add_arguments(group)
    group.add_argument("--augment-on-device", action="store_true",
                       help="jitter/flip at the start of train_step instead of in tf.data")
    return group
