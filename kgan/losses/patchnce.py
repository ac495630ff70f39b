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

import tensorflow as tf


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
    query = tf.cast(query, tf.float32)
    key = tf.stop_gradient(tf.cast(key, tf.float32))
    positive = tf.reduce_sum(query * key, axis=-1, keepdims=True)  # [N, P, 1]
    negatives = tf.matmul(query, key, transpose_b=True)  # [N, P, P]: q_i . k_j
    own = tf.eye(tf.shape(query)[1], dtype=tf.bool)
    negatives = tf.where(own, tf.constant(-float("inf")), negatives)
    logits = tf.concat([positive, negatives], axis=-1) / temperature
    return tf.reduce_mean(tf.reduce_logsumexp(logits, axis=-1) - logits[..., 0])


def patch_positions(features, num_patches, seed):
    """Draw `min(num_patches, H * W)` distinct positions of a feature map, shared by the batch.

    Args:
        features: [N, H, W, C].
        num_patches: positions wanted (256 in the paper).
        seed: int32 [2], a stateless seed.

    Returns:
        int32 [P]: flat indices into H * W, in random order.
    """
    shape = tf.shape(features)
    count = shape[1] * shape[2]
    order = tf.argsort(tf.random.stateless_uniform([count], seed))
    return order[:tf.minimum(num_patches, count)]


def gather_patches(features, positions):
    """The feature vectors at `positions` of each image: [N, H, W, C] -> [N, P, C]."""
    shape = tf.shape(features)
    channels = features.shape[-1] if features.shape[-1] is not None else shape[3]
    flat = tf.reshape(features, [shape[0], shape[1] * shape[2], channels])
    return tf.gather(flat, positions, axis=1)
