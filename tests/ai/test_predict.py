"""What the network's pass gives per pixel: the winning class and its probability."""

from __future__ import annotations


def test_the_winning_class_of_two_is_the_softmaxs_to_float16():
    """The two-class shortcut (sigmoid of the logits' difference) labels every pixel as the
    softmax's argmax does and gives the same float16 confidence, ties to the first class."""
    import torch

    from radview.ai.predict import winning_class

    logits = torch.randn(4, 2, 64, 64, generator=torch.Generator().manual_seed(0)) * 6
    logits[0, :, :4, :4] = 1.5  # ties
    best, winner = torch.softmax(logits, dim=1).max(dim=1)
    fast_winner, fast_best = winning_class(logits)
    assert torch.equal(fast_winner.to(torch.uint8), winner.to(torch.uint8))
    assert torch.equal(fast_best.to(torch.float16), best.to(torch.float16))
    three = torch.randn(2, 3, 8, 8)
    assert torch.equal(winning_class(three)[0], three.argmax(dim=1))
