"""Batched vs sequential inference in CTranslate2, for the worker's batching decision.

Runs N requests of real speech through faster-whisper's own transcribe, one after another,
then as one batch (encode all, generate all), and prints the times and their ratio as JSON.
Usage: python batching.py MODEL_DIR WAV [WAV ...]
"""
import json
import sys
import time
import wave

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer


def load(path):
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768


model_dir, *wavs = sys.argv[1:]
audios = [load(p) for p in wavs]
model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=0)
tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")
out = []
for beam in (1, 5):
    t = time.perf_counter()
    for a in audios:
        list(model.transcribe(a, beam_size=beam, language="en", vad_filter=False, condition_on_previous_text=False)[0])
    sequential = time.perf_counter() - t
    t = time.perf_counter()
    feats = [model.feature_extractor(a)[:, :3000] for a in audios]
    feats = np.stack([np.pad(f, ((0, 0), (0, 3000 - f.shape[1]))) for f in feats]).astype(np.float32)
    encoded = model.model.encode(ctranslate2.StorageView.from_array(feats), to_cpu=False)
    prompt = model.get_prompt(tokenizer, [], without_timestamps=False)
    model.model.generate(encoded, [prompt] * len(audios), beam_size=beam, max_length=224)
    batched = time.perf_counter() - t
    out.append({"beam_size": beam, "requests": len(audios), "sequential_s": round(sequential, 3),
                "batched_s": round(batched, 3), "throughput_ratio": round(sequential / batched, 2)})
print(json.dumps(out))
