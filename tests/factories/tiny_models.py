"""Tiny models built locally, for tests and the demo (no hub downloads).

Each builder writes a complete snapshot directory (config, weights, tokenizer or
image processor) and returns it. Weights are random but seeded, so the same call
gives the same files. The word vocabulary comes from the shipped IMDB subset, so
a tiny BERT can actually learn the sentiment task within the reference budget.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from pathlib import Path

# The demo (shipped code) and the tests build the tiny BERT the same way.
from models_app.validation import demo
from models_app.validation.demo import CHARS, SPECIAL_TOKENS, build_word_vocab  # noqa: F401 - used by tests


def build_tiny_bert(out: Path, *, hidden: int = 64, layers: int = 2, vocab_words: int = 2000) -> Path:
    """A BERT encoder (about 0.25M parameters) with a local WordPiece tokenizer, saved as safetensors; no card."""
    return demo.build_tiny_bert(out, hidden=hidden, layers=layers, vocab_words=vocab_words, card=False)


def build_tiny_gpt2(out: Path, *, hidden: int = 64, layers: int = 2, vocab_words: int = 2000) -> Path:
    """A GPT-2 causal LM with a local word-level tokenizer (tokenizer.json), saved as safetensors."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = build_word_vocab(vocab_words)
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", eos_token="[SEP]", bos_token="[CLS]"
    ).save_pretrained(out)
    config = GPT2Config(
        vocab_size=len(vocab),
        n_embd=hidden,
        n_layer=layers,
        n_head=2,
        n_positions=256,
        bos_token_id=vocab.index("[CLS]"),
        eos_token_id=vocab.index("[SEP]"),
        pad_token_id=vocab.index("[PAD]"),
    )
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(out, safe_serialization=True)
    return out


def build_tiny_resnet(out: Path, *, width: int = 16) -> Path:
    """A small CNN (transformers' ResNet, 1 input channel, about 30k parameters) with its image processor.

    Random but seeded weights; a CNN this size learns the image suite's tasks within
    the published budget even from scratch, so the jobs tests can ask for a pass.
    """
    import torch
    from transformers import ResNetConfig, ResNetModel

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = ResNetConfig(
        num_channels=1,
        embedding_size=width,
        hidden_sizes=[width, width * 2, width * 4],
        depths=[1, 1, 1],
        layer_type="basic",
        downsample_in_first_stage=False,
    )
    torch.manual_seed(0)
    ResNetModel(config).save_pretrained(out, safe_serialization=True)
    (out / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.5], "image_std": [0.5]}))
    return out


def build_tiny_vit(out: Path, *, image_size: int = 16, hidden: int = 64, layers: int = 2) -> Path:
    """A ViT for 16x16 RGB input with its image processor, saved as safetensors."""
    import torch
    from transformers import ViTConfig, ViTModel

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = ViTConfig(
        image_size=image_size,
        patch_size=4,
        num_channels=3,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
    )
    torch.manual_seed(0)
    ViTModel(config).save_pretrained(out, safe_serialization=True)
    # Written by hand: ViTImageProcessor needs Pillow and torchvision, which the hub does not install.
    processor = {
        "image_processor_type": "ViTImageProcessor",
        "do_resize": True,
        "size": {"height": image_size, "width": image_size},
        "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
    }
    (out / "preprocessor_config.json").write_text(json.dumps(processor, indent=2))
    return out


class _Canary:
    """Unpickling this runs ``open(path, "w")``: proof that a loader executed the payload."""

    def __init__(self, canary_path: Path) -> None:
        self.canary_path = str(canary_path)

    def __reduce__(self):
        return (open, (self.canary_path, "w"))


def build_pickle_canary_model(out: Path, canary_path: Path) -> Path:
    """A BERT config and tokenizer with weights only as pickles whose payload would create canary_path.

    ``pytorch_model.bin`` is zip-wrapped like ``torch.save`` output; ``training_args.pkl``
    is a bare pickle. Neither may ever be unpickled.
    """
    out = Path(out)
    build_tiny_bert(out)
    (out / "model.safetensors").unlink()
    payload = pickle.dumps({"weights": _Canary(canary_path)}, protocol=2)
    with zipfile.ZipFile(out / "pytorch_model.bin", "w") as zf:
        zf.writestr("pytorch_model/data.pkl", payload)
        zf.writestr("pytorch_model/version", "3\n")
    (out / "training_args.pkl").write_bytes(payload)
    return out


def build_remote_code_model(out: Path, canary_path: Path | None = None) -> Path:
    """A tiny BERT whose config asks for custom code via auto_map (the code would write a canary)."""
    out = Path(out)
    build_tiny_bert(out)
    config = json.loads((out / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel", "AutoConfig": "modeling_evil.EvilConfig"}
    (out / "config.json").write_text(json.dumps(config, indent=2))
    target = canary_path or out / "remote-code-ran"
    (out / "modeling_evil.py").write_text(f"open({str(target)!r}, 'w').close()\n")
    return out


def corrupt_safetensors_header(snapshot: Path) -> Path:
    """Point the first tensor's data_offsets past the end of the file (the header stays valid JSON)."""
    path = Path(snapshot) / "model.safetensors"
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    name = next(k for k in header if k != "__metadata__")
    header[name]["data_offsets"] = [0, len(data) * 2]
    raw = json.dumps(header, separators=(",", ":")).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    return path


def build_nan_bert(out: Path) -> Path:
    """A tiny BERT whose word embeddings are NaN: it loads, but nothing it computes is finite."""
    import torch
    from safetensors.torch import load_file, save_file

    out = build_tiny_bert(out)
    weights = load_file(str(out / "model.safetensors"))
    key = next(k for k in weights if k.endswith("word_embeddings.weight"))
    weights[key] = torch.full_like(weights[key], float("nan"))
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    return out


def build_unknown_architecture_model(out: Path) -> Path:
    """Sound safetensors weights under a model_type no library knows."""
    import torch
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps({"model_type": "mystery-net", "architectures": ["MysteryNet"]}))
    save_file({"weight": torch.zeros(4, 4)}, str(out / "model.safetensors"))
    return out


def pickle_bytes_of(obj: object) -> bytes:
    buf = io.BytesIO()
    pickle.dump(obj, buf, protocol=2)
    return buf.getvalue()
