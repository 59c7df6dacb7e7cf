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


def test_an_image_smaller_than_the_window_gets_the_sliding_windows_logits_in_one_pass():
    """An image that fits in the network's input is padded as MONAI pads it and run once: the same
    logits as sliding-window inference with its one window's blending, so the same labels."""
    import torch
    from monai.inferers import sliding_window_inference
    from monai.networks.nets import UNet

    from radview.ai.predict import network_pass, window_padding

    class Card:
        input_size = (64, 64)

    torch.manual_seed(0)
    network = UNet(2, 1, 2, (4, 8, 16), (2, 2), num_res_units=1).eval()
    batch = torch.rand(2, 1, 51, 60)
    with torch.inference_mode():
        ours = network_pass(network, Card, batch)
        monai = sliding_window_inference(batch, Card.input_size, 8, network, overlap=0.25, mode="gaussian")
    assert ours.shape == monai.shape == (2, 2, 51, 60)
    assert torch.allclose(ours, monai, atol=1e-5)
    assert torch.equal(ours.argmax(dim=1), monai.argmax(dim=1))
    assert window_padding((51, 60), (64, 64)) == (6, 7, 2, 2)
    assert window_padding((64, 64), (64, 64)) == (0, 0, 0, 0)
    assert window_padding((65, 60), (64, 64)) is None
