"""Input domains: boxes, L-inf balls and the thesis' neighbours region."""

from __future__ import annotations

import numpy as np
import pytest

import pyomo_nn as pnn


def test_box_broadcasts_scalars():
    lower, upper = pnn.Box(0, 1).box(3)
    assert np.array_equal(lower, [0, 0, 0]) and np.array_equal(upper, [1, 1, 1])


def test_linf_ball_is_clipped():
    lower, upper = pnn.LinfBall(np.array([0.05, 0.5, 0.98]), eps=0.1, lower=0, upper=1).box(3)
    assert np.allclose(lower, [0.0, 0.4, 0.88]) and np.allclose(upper, [0.15, 0.6, 1.0])


def test_neighbourhood_matches_the_thesis_definition():
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(6, 5)) * (rng.uniform(size=(6, 5)) > 0.4)
    image[:, 0] = 0.0
    image[:3, :3] = 0.0
    radius, eps = 1, 0.18
    domain = pnn.Neighbourhood(image, eps=eps, radius=radius)
    lower, upper = domain.box(30)
    padded = np.pad(image, radius)
    for i in range(6):
        for j in range(5):
            mean = padded[i : i + 3, j : j + 3].mean()
            k = i * 5 + j
            assert lower[k] == pytest.approx((1 - eps) * mean)
            assert upper[k] == pytest.approx(min(1.0, (1 + eps) * mean))
    assert lower[0] == upper[0] == 0.0, "a pixel with an all-zero window is fixed at 0"


def test_neighbourhood_accepts_a_flat_square_image():
    image = np.random.default_rng(1).uniform(size=64)
    flat = pnn.Neighbourhood(image, eps=0.05).box(64)
    square = pnn.Neighbourhood(image.reshape(8, 8), eps=0.05).box(64)
    assert np.array_equal(flat[0], square[0]) and np.array_equal(flat[1], square[1])
    with pytest.raises(pnn.errors.ShapeMismatchError, match="shape"):
        pnn.Neighbourhood(np.ones(10), eps=0.05)


def test_neighbourhood_bounds_and_block_work_end_to_end(digits_net):
    from pyomo_nn.bundled import digits_test_set

    images, _ = digits_test_set()
    domain = pnn.Neighbourhood(images[0], eps=0.05)
    bounds = pnn.compute_bounds(digits_net, domain, method="symbolic")
    lower, upper = domain.box(64)
    samples = np.random.default_rng(0).uniform(lower, upper, size=(500, 64))
    values = digits_net.activations(samples)
    for k, layer in enumerate(digits_net.dense_layers):
        assert np.all(values[layer.name] >= bounds.lower[k]) and np.all(values[layer.name] <= bounds.upper[k])
