"""The one table of metric keys: what each score is called, which way is better, how it prints.

Every place that writes or shows a score reads this table: the metric callback's `val_*` log
keys, `kgan.evaluate`'s JSON line, the sweep's evaluation.json and results.csv, the report's
columns and orderings, and the TensorBoard test metrics. Adding a metric is one row here.

Keys are the base names (`fid`); unpaired runs score each direction and suffix the key with
`_ab` or `_ba` (`fid_ab`, label "FID A→B"). `lookup` understands both.
"""

import collections

Metric = collections.namedtuple("Metric", "key label better format paired")
Metric.__doc__ = ("One score: `key` (str), `label` (column heading), `better` ('lower' or "
                  "'higher'), `format` (str.format pattern), `paired` (needs aligned targets).")

# In the study's column order: P, R, FID, then KID, then the paired-only image measures.
METRICS = collections.OrderedDict((m.key, m) for m in (
    Metric("precision", "Precision", "higher", "{:.3f}", False),
    Metric("recall", "Recall", "higher", "{:.3f}", False),
    Metric("fid", "FID", "lower", "{:.1f}", False),
    Metric("kid", "KID", "lower", "{:.4f}", False),
    Metric("psnr", "PSNR (dB)", "higher", "{:.2f}", True),
    Metric("ssim", "SSIM", "higher", "{:.3f}", True),
))
DIRECTIONS = {"ab": "A→B", "ba": "B→A"}
# The keys every image-set score carries beside the metrics: how it was measured.
PROTOCOL_KEYS = ("feature_precision", "num_generated", "num_reference", "protocol")


def keys(paired=True, precision_recall=True):
    """The metric keys an evaluation reports, in table order.

    Args:
        paired: include the measures that need aligned targets (PSNR, SSIM).
        precision_recall: include improved precision and recall.
    """
    return [m.key for m in METRICS.values()
            if (paired or not m.paired)
            and (precision_recall or m.key not in ("precision", "recall"))]


def directed_keys(directions=("ab", "ba"), precision_recall=True):
    """The unpaired keys of each direction: `fid_ab`, `kid_ab`, ... then the `_ba` ones."""
    base = keys(paired=False, precision_recall=precision_recall)
    return [f"{key}_{direction}" for direction in directions for key in base]


def lookup(key):
    """The `Metric` of a key, with a direction suffix resolved (`fid_ba` -> "FID B→A").

    Returns:
        Metric, or None for a key that is not a metric (an option, a cost).
    """
    if key in METRICS:
        return METRICS[key]
    base, _, direction = key.rpartition("_")
    if base in METRICS and direction in DIRECTIONS:
        metric = METRICS[base]
        return metric._replace(key=key, label=f"{metric.label} {DIRECTIONS[direction]}")
    return None
