"""The GGUF header reader behind the Gemma export agrees with gguf's own reader on a file gguf writes."""

from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFReader, GGUFWriter

from retinue.errors import RetinueError
from retinue.training.lm.gemma import read_gguf_header


def test_the_header_reader_matches_gguf_on_every_kind_of_field(tmp_path: Path) -> None:
    path = tmp_path / "small.gguf"
    writer = GGUFWriter(path, "gemma3")
    writer.add_uint32("gemma3.block_count", 18)
    writer.add_float32("gemma3.rope.freq_base", 10000.0)
    writer.add_bool("tokenizer.ggml.add_bos_token", True)
    writer.add_string("general.name", "città")
    writer.add_array("tokenizer.ggml.tokens", ["<bos>", "▁positive", "è"])
    writer.add_array("tokenizer.ggml.scores", [0.0, -1.5, -2.25])
    writer.add_array("tokenizer.ggml.token_type", [3, 1, 1])
    writer.add_tensor("blk.0.attn_norm.weight", np.ones(4, dtype=np.float32))
    writer.add_tensor("token_embd.weight", np.zeros((3, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    fields, names = read_gguf_header(path)
    reader = GGUFReader(path)
    expected = [
        (f.name, f.types[0].value, f.contents()) for f in reader.fields.values() if not f.name.startswith("GGUF.")
    ]
    assert [(key, kind, value) for key, kind, value, _ in fields] == expected
    assert names == [t.name for t in reader.tensors] == ["blk.0.attn_norm.weight", "token_embd.weight"]
    (tmp_path / "not.gguf").write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(RetinueError, match="not a GGUF file"):
        read_gguf_header(tmp_path / "not.gguf")
