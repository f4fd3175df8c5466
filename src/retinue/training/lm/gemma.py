"""Gemma 3 270M in torch, and back to GGUF.

The embedded chat model is a Q4_K_M GGUF run by llama.cpp. For training it is read into torch once
(`transformers` de-quantises the GGUF with the `gguf` package) and kept in RETINUE_HOME/models as a
safetensors model folder, so later loads take seconds. A trained Gemma (continual pretraining, ICLGuard)
is saved the same way, and `export_gguf` writes it back as a Q8_0 GGUF with the original's metadata and
tokenizer, which the embedded provider runs like the stock model (`--model NAME_OR_PATH`).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from retinue.errors import RetinueError
from retinue.models.model_folder import CARD_FILE, GGUF_FILE, check_hash, file_sha256, write_card
from retinue.paths import retinue_home
from retinue.training.lm.model import next_token_loss

BASE_NAME = "gemma-270m"  # the --base / --model value that means the stock model
WEIGHTS = "model.safetensors"
ARCHITECTURE = "gemma3"


class HFTokenizer:
    """A `transformers` tokenizer seen through the toolkit's `Tokenizer` protocol."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.bos, self.eos = int(tokenizer.bos_token_id), int(tokenizer.eos_token_id)
        # Gemma scores a sequence that does not open with BOS far worse (E3C held-out perplexity 542 vs 56).
        self.bos_first = True

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, tokens: list[int]) -> str:
        return str(self.tokenizer.decode(tokens, skip_special_tokens=True))


class GemmaLM(nn.Module):
    """Gemma3ForCausalLM with the toolkit's model interface: logits, hidden states, loss on packed blocks."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = HFTokenizer(tokenizer)

    @property
    def max_seq(self) -> int:
        return int(self.model.config.max_position_embeddings)

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """The final (normed) hidden states, (batch, seq, dim)."""
        return self.model.model(input_ids=tokens, use_cache=False).last_hidden_state  # type: ignore[no-any-return]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=tokens, use_cache=False).logits  # type: ignore[no-any-return]

    def loss(self, blocks: torch.Tensor) -> torch.Tensor:
        return next_token_loss(self, blocks)

    def parameters_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def kv_cache_bytes(self, seq: int, bytes_per_value: int = 2) -> int:
        """Keys and values of every layer for one sequence of `seq` tokens (fp16 by default; `seq` within the
        sliding window of Gemma's local layers, 512)."""
        config = self.model.config
        return 2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * seq * bytes_per_value

    def freeze_embeddings(self) -> None:
        """Train only the blocks: the (tied) 262k x 640 embedding is 63 % of the parameters."""
        self.model.get_input_embeddings().weight.requires_grad_(False)

    def save(self, folder: Path, card: dict[str, Any]) -> None:
        quiet_transformers()
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder)
        self.tokenizer.tokenizer.save_pretrained(folder)
        write_card(folder, {**card, "architecture": ARCHITECTURE, "tensors_sha256": file_sha256(folder / WEIGHTS)})


def quiet_transformers() -> None:
    """transformers' own progress bars (loading weights, writing shards) are library chatter on the user's
    terminal: retinue prints its own progress line for the work they belong to."""
    from transformers.utils import logging

    logging.disable_progress_bar()


def is_gemma_folder(folder: Path) -> bool:
    return (folder / "config.json").is_file()


def load_gemma(folder: Path) -> tuple[GemmaLM, dict[str, Any]]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        card = json.loads((folder / CARD_FILE).read_text())
        check_hash(folder / WEIGHTS, card)
    except FileNotFoundError as error:
        raise RetinueError(f"no Gemma model in {folder}: {error.filename} is missing") from None
    quiet_transformers()
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return GemmaLM(model, AutoTokenizer.from_pretrained(folder)).eval(), card


@contextmanager
def _one_gguf_parse() -> Iterator[None]:
    """Within the block, every `gguf.GGUFReader` of one file is the same reader. transformers parses the GGUF
    for the config, the weights and the tokenizer, about 20 s each over Gemma's 262k-token vocabulary. Its
    tensor conversion's own tqdm bar (which `quiet_transformers` does not reach) is left out too."""
    import gguf
    import transformers.modeling_gguf_pytorch_utils as gguf_loading

    original, bar = gguf.GGUFReader, gguf_loading.tqdm
    readers: dict[str, gguf.GGUFReader] = {}

    def shared(path: Any, mode: str = "r") -> gguf.GGUFReader:
        key = f"{Path(path).resolve()}:{mode}"
        if key not in readers:
            readers[key] = original(path, mode)  # type: ignore[arg-type]
        return readers[key]

    gguf.GGUFReader = shared  # type: ignore[assignment,misc]
    gguf_loading.tqdm = lambda iterable, **_: iterable
    try:
        yield
    finally:
        gguf.GGUFReader = original  # type: ignore[misc]
        gguf_loading.tqdm = bar


def base_folder() -> Path:
    """The stock Gemma 3 270M as a torch model folder, converted from the embedded GGUF on first use."""
    folder = retinue_home() / "models" / "gemma3-270m-torch"
    if (folder / CARD_FILE).is_file():
        return folder
    from rich.console import Console
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from retinue.llms.llama_cpp import default_model_path

    gguf = default_model_path()
    Console(stderr=True).print(f"converting {gguf.name} to torch, once (under a minute): {folder}")
    quiet_transformers()
    with _one_gguf_parse():
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # A model read from GGUF is marked quantised (its config names the GGUF) and refuses save_pretrained; the
    # same weights in a plain model of the config without that mark save normally.
    config = loaded.config
    del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    partial = folder.with_name(folder.name + ".partial")
    GemmaLM(model, tokenizer).save(
        partial, {"task": "Gemma 3 270M base, de-quantised from the embedded GGUF", "source": str(gguf)}
    )
    partial.rename(folder)
    return folder


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def read_gguf_header(path: Path) -> tuple[list[tuple[str, int, Any, int | None]], list[str]]:
    """The metadata fields of a GGUF file as (key, value type, value, element type of an array), in order,
    and its tensors' names. gguf's GGUFReader takes about 34 s over Gemma's 262k-token vocabulary."""
    import struct

    import numpy as np

    data = path.read_bytes()
    magic, _, tensors, count = struct.unpack_from("<4sIQQ", data, 0)
    if magic != b"GGUF":
        raise RetinueError(f"{path} is not a GGUF file")
    offset = 24

    def string() -> str:
        nonlocal offset
        (length,) = struct.unpack_from("<Q", data, offset)
        offset += 8 + length
        return data[offset - length : offset].decode("utf-8")

    def value(kind: int) -> Any:
        nonlocal offset
        if kind == _STRING:
            return string()
        (result,) = struct.unpack_from(_SCALARS[kind], data, offset)
        offset += struct.calcsize(_SCALARS[kind])
        return result

    fields: list[tuple[str, int, Any, int | None]] = []
    for _ in range(count):
        key = string()
        (kind,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if kind != _ARRAY:
            fields.append((key, kind, value(kind), None))
            continue
        element, length = struct.unpack_from("<IQ", data, offset)
        offset += 12
        if element in (_STRING, _ARRAY):
            items = [value(element) for _ in range(length)]
        else:
            dtype = np.dtype(_SCALARS[element])
            items = np.frombuffer(data, dtype, length, offset).tolist()
            offset += dtype.itemsize * length
        fields.append((key, kind, items, element))
    names = []
    for _ in range(tensors):
        names.append(string())
        (dims,) = struct.unpack_from("<I", data, offset)
        offset += 4 + 8 * dims + 4 + 8  # dimensions, type, data offset
    return fields, names


def export_gguf(model: GemmaLM, folder: Path) -> None:
    """Write `model` as folder/model.gguf, which llama.cpp runs: the embedded GGUF's metadata and tokenizer
    (with this model's head count and MLP width), this model's weights (matrices Q8_0, norms F32; Gemma's GGUF
    norms hold 1 + the torch weight)."""
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFValueType, GGUFWriter, Keys, LlamaFileType
    from gguf.quants import quantize
    from transformers.modeling_gguf_pytorch_utils import Gemma2TensorProcessor, get_gguf_hf_weights_map

    from retinue.llms.llama_cpp import default_model_path

    source = default_model_path()
    names = get_gguf_hf_weights_map(model.model, Gemma2TensorProcessor())
    weights = model.model.state_dict()
    target = folder / GGUF_FILE
    partial = target.with_name(target.name + ".partial")
    writer = GGUFWriter(partial, ARCHITECTURE)
    fields, tensor_names = read_gguf_header(source)
    widths = {  # a pruned model (TransAct) has fewer query heads or a narrower MLP than the source
        Keys.Attention.HEAD_COUNT.format(arch=ARCHITECTURE): model.model.config.num_attention_heads,
        Keys.LLM.FEED_FORWARD_LENGTH.format(arch=ARCHITECTURE): model.model.config.intermediate_size,
    }
    for key, kind, content, element in fields:
        content = widths.get(key, content)
        if key not in (Keys.General.ARCHITECTURE, Keys.General.FILE_TYPE):
            writer.add_key_value(
                key, content, GGUFValueType(kind), sub_type=None if element is None else GGUFValueType(element)
            )
    writer.add_file_type(LlamaFileType.MOSTLY_Q8_0)
    for name in tensor_names:
        if name not in names:
            raise RetinueError(f"cannot map GGUF tensor {name} onto the torch model")
        value = weights[names[name]].detach().float().numpy()
        if "norm.weight" in names[name]:
            value = value + 1
        if value.ndim == 1:
            writer.add_tensor(name, value.astype(np.float32))
        else:
            quantised = quantize(value, GGMLQuantizationType.Q8_0)
            writer.add_tensor(name, quantised, raw_dtype=GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.rename(target)
