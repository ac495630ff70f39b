"""PSNR and SSIM between generated images and their targets (paired tasks such as pix2pix).

kgan images live in [-1, 1]. PSNR only depends on the error relative to the value range, so
it is the same in [-1, 1] with a range of 2 as in [0, 255] with 255. SSIM is not: its
luminance term (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) changes when the images are
shifted, so images are mapped to [0, 1] first and SSIM is computed there (range 1), which
gives the numbers usual SSIM code gives on [0, 1] or uint8 images.

Reference:
    Wang et al., "Image Quality Assessment: From Error Visibility to Structural Similarity",
    IEEE TIP 2004 (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03).
"""

import numpy as np
import tensorflow as tf

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03


def _to_unit_range(images):
    """[-1, 1] -> [0, 1], clipped (a generator's tanh can only round-off overshoot)."""
    return tf.clip_by_value((tf.cast(images, tf.float32) + 1.0) * 0.5, 0.0, 1.0)


def psnr(targets, outputs):
    """Peak signal-to-noise ratio per image, in dB.

    Args:
        targets: float [N, H, W, C] in [-1, 1].
        outputs: float [N, H, W, C] in [-1, 1], same shape.

    Returns:
        float32 [N]: 10 log10(1 / MSE) over all pixels and channels of each image in [0, 1]
        units (equal to 10 log10(255^2 / MSE) in uint8 units); +inf for identical images.
    """
    return tf.image.psnr(_to_unit_range(targets), _to_unit_range(outputs), max_val=1.0)


def _gaussian_filter(images):
    """Valid 11x11 Gaussian blur (sigma 1.5) of float64 [M, H, W, 1], as two 1-D passes."""
    taps = np.exp(-0.5 * ((np.arange(SSIM_WINDOW) - SSIM_WINDOW // 2) / SSIM_SIGMA) ** 2)
    taps = tf.constant(taps / taps.sum(), tf.float64)
    images = tf.nn.conv2d(images, tf.reshape(taps, [-1, 1, 1, 1]), 1, "VALID")
    return tf.nn.conv2d(images, tf.reshape(taps, [1, -1, 1, 1]), 1, "VALID")


def ssim(targets, outputs):
    """Structural similarity per image, computed in [0, 1] units and averaged over channels.

    The SSIM map is taken over valid 11x11 Gaussian windows (no padding) of each channel
    and averaged over positions and channels, like `tf.image.ssim`, but in float64:
    `tf.image.ssim` works in float32, where the windowed variances E[x^2] - E[x]^2 of flat
    regions (large in label maps) lose enough digits to move SSIM by ~4e-4.

    Args:
        targets: float [N, H, W, C] in [-1, 1], H and W >= 11.
        outputs: float [N, H, W, C] in [-1, 1], same shape.

    Returns:
        float32 [N] in [-1, 1]; 1 for identical images.
    """
    height, width = targets.shape[-3], targets.shape[-2]
    if (height is not None and height < SSIM_WINDOW) or (width is not None and width < SSIM_WINDOW):
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, "
                         f"got {height}x{width}")
    x = tf.cast(_to_unit_range(targets), tf.float64)
    y = tf.cast(_to_unit_range(outputs), tf.float64)
    shape = tf.shape(x)
    # Channels into the batch axis, so one single-channel filter serves them all.
    x = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [-1, shape[1], shape[2], 1])
    y = tf.reshape(tf.transpose(y, [0, 3, 1, 2]), [-1, shape[1], shape[2], 1])
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2  # (K * range)^2 with range 1
    mean_x, mean_y = _gaussian_filter(x), _gaussian_filter(y)
    var_x = _gaussian_filter(x * x) - mean_x ** 2
    var_y = _gaussian_filter(y * y) - mean_y ** 2
    cov = _gaussian_filter(x * y) - mean_x * mean_y
    ssim_map = ((2 * mean_x * mean_y + c1) * (2 * cov + c2)
                / ((mean_x ** 2 + mean_y ** 2 + c1) * (var_x + var_y + c2)))
    per_channel = tf.reshape(tf.reduce_mean(ssim_map, axis=[1, 2, 3]), [shape[0], shape[3]])
    return tf.cast(tf.reduce_mean(per_channel, axis=1), tf.float32)
