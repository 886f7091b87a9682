#!/usr/bin/env python3
"""Regenerates the fake hub's test repositories under tests/data/hub/ (deterministic output).

The repositories are committed; run this only after changing it:  python3 tests/fakehub/make_repos.py
Every model's shards are *virtual* (described in _repo.json, generated in memory by server.py), so the
tree stays small on disk while the served files have realistic sizes.
"""

import hashlib
import json
import os
import shutil

HUB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "hub")
DTYPE_BYTES = {"BF16": 2, "F16": 2, "F32": 4}


def commit(repo, ref):
    return hashlib.sha1(("%s@%s" % (repo, ref)).encode()).hexdigest()


def llama_config(hidden, layers, heads, kv_heads, intermediate, vocab, max_pos, dtype="bfloat16", extra=None):
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": intermediate,
        "max_position_embeddings": max_pos,
        "model_type": "llama",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": kv_heads,
        "rms_norm_eps": 1e-05,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": dtype,
        "transformers_version": "4.44.0",
        "use_cache": True,
        "vocab_size": vocab,
    }
    cfg.update(extra or {})
    return cfg


def llama_layer(cfg, i, dtype="BF16"):
    h = cfg["hidden_size"]
    hd = h // cfg["num_attention_heads"]
    q = cfg["num_attention_heads"] * hd
    kv = cfg["num_key_value_heads"] * hd
    inter = cfg["intermediate_size"]
    p = "model.layers.%d." % i
    return [
        (p + "input_layernorm.weight", dtype, [h]),
        (p + "mlp.down_proj.weight", dtype, [h, inter]),
        (p + "mlp.gate_proj.weight", dtype, [inter, h]),
        (p + "mlp.up_proj.weight", dtype, [inter, h]),
        (p + "post_attention_layernorm.weight", dtype, [h]),
        (p + "self_attn.k_proj.weight", dtype, [kv, h]),
        (p + "self_attn.o_proj.weight", dtype, [h, q]),
        (p + "self_attn.q_proj.weight", dtype, [q, h]),
        (p + "self_attn.v_proj.weight", dtype, [kv, h]),
    ]


def llama_shards(cfg, n_shards, dtype="BF16"):
    """Llama tensors split across n_shards by layer: embeddings first, norm and lm_head last."""
    layers = cfg["num_hidden_layers"]
    h, vocab = cfg["hidden_size"], cfg["vocab_size"]
    shards = [[] for _ in range(n_shards)]
    shards[0].append(("model.embed_tokens.weight", dtype, [vocab, h]))
    for i in range(layers):
        shards[i * n_shards // layers].extend(llama_layer(cfg, i, dtype))
    shards[-1].append(("model.norm.weight", dtype, [h]))
    if not cfg.get("tie_word_embeddings"):
        shards[-1].append(("lm_head.weight", dtype, [vocab, h]))
    return shards


def nbytes(t):
    n = DTYPE_BYTES[t[1]]
    for d in t[2]:
        n *= d
    return n


def shard_name(i, n, stem="model", ext="safetensors"):
    return "%s-%05d-of-%05d.%s" % (stem, i + 1, n, ext)


def dump(obj):
    return json.dumps(obj, indent=2) + "\n"


def repo_json(name, refs=("main",), virtual=None, extra=None, pads=None):
    """_repo.json text; each virtual tensor on one line to keep the file short and readable."""
    lines = ["{"]
    lines.append('  "refs": %s,' % json.dumps({r: commit("acme/" + name, r) for r in refs}))
    for k, v in (extra or {}).items():
        lines.append('  %s: %s,' % (json.dumps(k), json.dumps(v)))
    lines.append('  "virtual_files": {')
    files = list((virtual or {}).items())
    for fi, (fname, tensors) in enumerate(files):
        pad = (pads or {}).get(fname)
        lines.append('    %s: {%s"tensors": {' % (json.dumps(fname), '"header_pad": %d, ' % pad if pad else ""))
        for ti, (tname, dtype, shape) in enumerate(tensors):
            sep = "," if ti + 1 < len(tensors) else ""
            lines.append('      %s: {"dtype": "%s", "shape": %s}%s' % (json.dumps(tname), dtype, json.dumps(shape), sep))
        lines.append("    }}" + ("," if fi + 1 < len(files) else ""))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_repo(name, files, repo_desc):
    d = os.path.join(HUB, "acme--" + name)
    os.makedirs(d)
    for fname, text in files.items():
        with open(os.path.join(d, fname), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(d, "_repo.json"), "w", encoding="utf-8") as f:
        f.write(repo_desc)


def sharded_repo(name, cfg, n_shards, refs=("main",), extra=None, pads=None):
    shards = llama_shards(cfg, n_shards)
    virtual = {shard_name(i, n_shards): s for i, s in enumerate(shards)}
    index = {
        "metadata": {"total_size": sum(nbytes(t) for s in shards for t in s)},
        "weight_map": {t[0]: f for f, s in sorted(virtual.items()) for t in s},
    }
    index["weight_map"] = dict(sorted(index["weight_map"].items()))
    write_repo(name, {"config.json": dump(cfg), "model.safetensors.index.json": dump(index)},
               repo_json(name, refs, virtual, extra, pads))


def single_repo(name, extra=None):
    cfg = SMALL
    tensors = llama_shards(cfg, 1)[0]
    write_repo(name, {"config.json": dump(cfg)}, repo_json(name, ("main",), {"model.safetensors": tensors}, extra))


SHARDED = llama_config(2048, 16, 16, 8, 8192, 32000, 4096)
SMALL = llama_config(512, 4, 8, 4, 1536, 32000, 2048)


def main():
    if os.path.isdir(HUB):
        for d in os.listdir(HUB):
            if d.startswith("acme--"):
                shutil.rmtree(os.path.join(HUB, d))
    os.makedirs(HUB, exist_ok=True)

    sharded_repo("sharded", SHARDED, 4, refs=("main", "v1.0"))
    sharded_repo("redirect", SHARDED, 2, extra={"gated_token": "hf_test_token_123", "redirect_lfs": True})
    sharded_repo("manyshards", SHARDED, 16)
    # A shard whose header is padded past 256 KiB: it needs a third round for the rest of its header.
    sharded_repo("bigheader", SMALL, 2, pads={shard_name(1, 2): 300000})
    single_repo("single")
    single_repo("gated", {"gated_token": "hf_test_token_123"})
    single_repo("flaky", {"faults": {"config.json": {"statuses": [500, 500]},
                                     "model.safetensors": {"statuses": [429], "retry_after": "1"}}})
    single_repo("slow", {"faults": {"config.json": {"slow_ms": 5000}}})
    single_repo("truncated", {"faults": {"config.json": {"truncate": True}}})
    single_repo("hugeheader", {"faults": {"model.safetensors": {"header_length": 1099511627776}}})
    single_repo("ratelimited", {"faults": {"config.json": {"statuses": [429, 429, 429], "retry_after": "0"}}})
    write_repo("malformed", {"config.json": '{"model_type": "llama", "hidden_size": 4096,\n  "num_layers": }\n'},
               repo_json("malformed"))

    # Hostile repositories (issue 11): the ones below test limits and refusals.
    # An index naming 512 one-tensor shards, generated by server.py: connections must stay capped.
    write_repo("512shards", {"config.json": dump(SMALL)},
               repo_json("512shards", extra={"generated_shards": {"count": 512, "dtype": "BF16", "shape": [64, 64]}}))
    # The safetensors file redirects from https to plain http: a TLS downgrade to refuse.
    single_repo("downgrade", {"redirect_lfs": "http"})
    # config.json padded past limits::kMaxConfigBytes (4 MiB) with spaces: valid JSON, too large.
    single_repo("bigconfig", {"faults": {"config.json": {"pad_bytes": 5 << 20}}})

    # Mistral's own format: params.json and consolidated.safetensors with Mistral tensor names, no config.json.
    params = {"dim": 4096, "n_layers": 32, "head_dim": 128, "hidden_dim": 14336, "n_heads": 32, "n_kv_heads": 8,
              "norm_eps": 1e-05, "vocab_size": 32768, "rope_theta": 1000000.0}
    dim, hd, hidden, vocab = params["dim"], params["head_dim"], params["hidden_dim"], params["vocab_size"]
    q, kv = params["n_heads"] * hd, params["n_kv_heads"] * hd
    mistral = [("tok_embeddings.weight", "BF16", [vocab, dim])]
    for i in range(params["n_layers"]):
        p = "layers.%d." % i
        mistral += [
            (p + "attention.wq.weight", "BF16", [q, dim]),
            (p + "attention.wk.weight", "BF16", [kv, dim]),
            (p + "attention.wv.weight", "BF16", [kv, dim]),
            (p + "attention.wo.weight", "BF16", [dim, q]),
            (p + "feed_forward.w1.weight", "BF16", [hidden, dim]),
            (p + "feed_forward.w2.weight", "BF16", [dim, hidden]),
            (p + "feed_forward.w3.weight", "BF16", [hidden, dim]),
            (p + "attention_norm.weight", "BF16", [dim]),
            (p + "ffn_norm.weight", "BF16", [dim]),
        ]
    mistral += [("norm.weight", "BF16", [dim]), ("output.weight", "BF16", [vocab, dim])]
    write_repo("mistral", {"params.json": dump(params)},
               repo_json("mistral", ("main",), {"consolidated.safetensors": mistral}))
    # Its params.json padded past limits::kMaxConfigBytes (refused before any weights are looked at).
    write_repo("bigparams", {"params.json": dump(params)},
               repo_json("bigparams", extra={"faults": {"params.json": {"pad_bytes": 5 << 20}}}))

    # pytorch_model.bin shards only (Llama-2-7b layout, float16): the index total is all there is.
    l2 = llama_config(4096, 32, 32, 32, 11008, 32000, 4096, "float16")
    wm = {}
    for i in range(32):
        for t in llama_layer(l2, i, "F16"):
            wm[t[0]] = shard_name(0 if i < 24 else 1, 2, "pytorch_model", "bin")
    wm["model.embed_tokens.weight"] = shard_name(0, 2, "pytorch_model", "bin")
    wm["model.norm.weight"] = shard_name(1, 2, "pytorch_model", "bin")
    wm["lm_head.weight"] = shard_name(1, 2, "pytorch_model", "bin")
    index = {"metadata": {"total_size": 13476839424}, "weight_map": dict(sorted(wm.items()))}
    write_repo("binonly", {"config.json": dump(l2), "pytorch_model.bin.index.json": dump(index)},
               repo_json("binonly"))


if __name__ == "__main__":
    main()
