"""PatchNCE: CUT's contrastive loss between patches of an output image and of its input.

Each patch of the output (the query) must be told apart from the other patches of the same
input (the negatives) and matched to the input patch at its own position (the positive).
The features of both images are sampled at the same positions (`patch_positions`,
`gather_patches`), projected by a small MLP and L2-normalised (the model does that), and
compared here.

Reference:
    Park et al., "Contrastive Learning for Unpaired Image-to-Image Translation", ECCV 2020,
    section 3.2 (equation 2), and its code (models/patchnce.py: negatives from the same
    image only, nce_includes_all_negatives_from_minibatch False).
"""

from keras import ops

from kgan import seeds


def patch_nce_loss(query, key, temperature=0.07):
    """Cross-entropy of picking each query's own key among the keys of the same image.

    For image n and patch i the logits are `[q_i . k_i, q_i . k_j for j != i] / temperature`
    with the positive first, and the loss is the cross-entropy with label 0. Negatives come
    from the same image only; the other images of the batch take no part. (The reference
    code masks k_i among the negatives with a logit of -10, whose weight exp(-10 / 0.07)
    is 0 in float32: the same as leaving it out, which is what this does.)

    Args:
        query: [N, P, D] embeddings of P patches of each output image, rows L2-normalised.
        key: [N, P, D] embeddings of the same P positions of each input image, normalised
            alike. No gradient flows into it (the reference code detaches it).
        temperature: tau, which scales the similarities (0.07 in the paper).

    Returns:
        float32 scalar: the mean over the N images and P patches, computed in float32.
    """
    query = ops.cast(query, "float32")
    key = ops.stop_gradient(ops.cast(key, "float32"))
    positive = ops.sum(query * key, axis=-1, keepdims=True)  # [N, P, 1]
    negatives = ops.matmul(query, ops.swapaxes(key, 1, 2))  # [N, P, P]: q_i . k_j
    own = ops.eye(ops.shape(query)[1], dtype="bool")
    negatives = ops.where(own, -float("inf"), negatives)
    logits = ops.concatenate([positive, negatives], axis=-1) / temperature
    return ops.mean(ops.logsumexp(logits, axis=-1) - logits[..., 0])


def patch_positions(features, num_patches, seed):
    """Draw `min(num_patches, H * W)` distinct positions of a feature map, shared by the batch.

    Args:
        features: [N, H, W, C].
        num_patches: positions wanted (256 in the paper).
        seed: a seed tensor of shape [2] (see `kgan.seeds`).

    Returns:
        int32 [P]: flat indices into H * W, in random order.
    """
    shape = ops.shape(features)
    order = ops.argsort(seeds.uniform([shape[1] * shape[2]], seed))
    return order[:num_patches]  # all of them when there are fewer


def gather_patches(features, positions):
    """The feature vectors at `positions` of each image: [N, H, W, C] -> [N, P, C]."""
    shape = ops.shape(features)
    flat = ops.reshape(features, (-1, shape[1] * shape[2], features.shape[-1]))
    return ops.take(flat, positions, axis=1)
