"""Masked-LM pretraining of the demo's tiny BERT on the IMDB subset's *train* reviews.

Same architecture and WordPiece vocabulary as ``demo.build_tiny_bert`` (so all
tiny BERTs share one tokenizer). Only the train reviews are read: the test
reviews score the hub's reference task. Saved as ``BertModel`` (with its
pooler, which masked-LM does not train and keeps at its seeded init) so
``AutoModelForSequenceClassification`` finds every backbone key.
"""

from __future__ import annotations

import time
from pathlib import Path


def pretrain_tiny_bert(out: Path, recipe: dict) -> dict:
    """Build the tokenizer and seeded BertModel in ``out``, then train ``recipe["steps"]`` MLM steps."""
    import torch
    from transformers import BertForMaskedLM, BertModel, BertTokenizerFast

    from models_app.validation.datasets import load_imdb_file
    from models_app.validation.demo import build_tiny_bert

    out = Path(out)
    build_tiny_bert(out, card=False)  # tokenizer + seeded random BertModel (seed 0)
    steps = int(recipe["steps"])
    model = BertModel.from_pretrained(out, use_safetensors=True, local_files_only=True)
    info = {"params": sum(p.numel() for p in model.parameters()), "losses": []}
    if steps == 0:
        return info
    torch.manual_seed(recipe["seed"])
    tokenizer = BertTokenizerFast.from_pretrained(out, local_files_only=True)
    texts = load_imdb_file()["train"][0]  # never the test reviews
    ids = tokenizer(texts, truncation=True, max_length=recipe["seq_len"], padding="max_length", return_tensors="pt")[
        "input_ids"
    ]
    mlm = BertForMaskedLM(model.config)
    # The MLM wrapper has no pooler; share the encoder so the saved BertModel gets the trained weights.
    mlm.bert.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("pooler.")})
    optimizer = torch.optim.AdamW(mlm.parameters(), lr=recipe["lr"], weight_decay=0.01)
    warmup = max(1, int(steps * recipe["warmup"]))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    special = torch.tensor(tokenizer.all_special_ids)
    generator = torch.Generator().manual_seed(recipe["seed"])
    mlm.train()
    started = time.monotonic()
    for _ in range(steps):
        batch = ids[torch.randint(len(ids), (recipe["batch_size"],), generator=generator)]
        inputs, labels = _mask(batch, tokenizer, special, recipe["mask_prob"], generator)
        loss = mlm(input_ids=inputs, attention_mask=(batch != tokenizer.pad_token_id).long(), labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(mlm.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        info["losses"].append(round(loss.item(), 4))
    info["train_seconds"] = round(time.monotonic() - started, 1)
    model.load_state_dict({**model.state_dict(), **mlm.bert.state_dict()})
    model.save_pretrained(out, safe_serialization=True)
    return info


def _mask(batch, tokenizer, special, prob: float, generator):
    """BERT's 80/10/10 masking of ``prob`` of the non-special tokens; labels are -100 elsewhere."""
    import torch

    labels = batch.clone()
    chosen = (torch.rand(batch.shape, generator=generator) < prob) & ~torch.isin(batch, special)
    labels[~chosen] = -100
    inputs = batch.clone()
    roll = torch.rand(batch.shape, generator=generator)
    inputs[chosen & (roll < 0.8)] = tokenizer.mask_token_id
    randomize = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[randomize] = torch.randint(len(tokenizer), batch.shape, generator=generator)[randomize]
    return inputs, labels
