"""Compares whisper.cpp on the converted ggml model with CTranslate2 on the original, given
the same log-mel features: the encoder output, and the decoder's next-token log-probabilities
along CTranslate2's greedy transcript (teacher-forced); and the ggml file's mel filterbank
with faster-whisper's. Prints one JSON object.

    python compare.py <probe> <ggml model.bin> <ct2 dir> <workdir> <wav>...

Runs in faster-whisper's venv (numpy, ctranslate2, faster_whisper's feature extractor).
"""
import json
import os
import struct
import subprocess
import sys
import wave

import ctranslate2
import numpy as np
import tokenizers
from faster_whisper.feature_extractor import FeatureExtractor
from faster_whisper.tokenizer import Tokenizer


def load_wav(path):
    with wave.open(path) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768


def log_softmax(x):
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


def ggml_mel_filters(path):
    """The mel filterbank stored after the ggml file's hyper-parameters."""
    with open(path, "rb") as f:
        magic, *hparams = struct.unpack("<I11i", f.read(48))
        assert magic == 0x67676D6C, "not a ggml file"
        n_mel, n_fft = struct.unpack("<2i", f.read(8))
        return np.frombuffer(f.read(4 * n_mel * n_fft), "<f4").reshape(n_mel, n_fft)


def main():
    probe, ggml_model, ct2_dir, workdir = sys.argv[1:5]
    wavs = sys.argv[5:]
    filters = ggml_mel_filters(ggml_model)
    reference_filters = FeatureExtractor(feature_size=filters.shape[0]).mel_filters
    f32 = ctranslate2.models.Whisper(ct2_dir, device="cpu", compute_type="float32", intra_threads=2)
    i8 = ctranslate2.models.Whisper(ct2_dir, device="cpu", compute_type="int8", intra_threads=2)
    hf = tokenizers.Tokenizer.from_file(os.path.join(ct2_dir, "tokenizer.json"))
    tok = Tokenizer(hf, f32.is_multilingual, task="transcribe", language="en")
    prompt = list(tok.sot_sequence) + [tok.no_timestamps]
    fe = FeatureExtractor()
    clips = []
    for wav in wavs:
        features = fe(load_wav(wav))[:, :-1]
        mel = np.zeros((80, 3000), np.float32)
        mel[:, : features.shape[1]] = features
        mel_file = os.path.join(workdir, "clip.mel")
        with open(mel_file, "wb") as out:
            out.write(struct.pack("ii", 3000, 0))
            out.write(mel.tobytes())
        batch = ctranslate2.StorageView.from_array(mel[None])
        enc_f32 = np.array(f32.encode(batch, to_cpu=True))[0]
        enc_i8 = np.array(i8.encode(batch, to_cpu=True))[0]
        greedy = f32.generate(batch, [prompt], beam_size=1, return_logits_vocab=True, max_length=64)[0]
        sequence = prompt + greedy.sequences_ids[0]
        enc_file = os.path.join(workdir, "encoder.f32")
        logits_file = os.path.join(workdir, "logits.f32")
        subprocess.run(
            [probe, ggml_model, mel_file, enc_file, ",".join(map(str, sequence)), logits_file],
            check=True,
        )
        enc_cpp = np.fromfile(enc_file, np.float32).reshape(enc_f32.shape)
        cpp_logits = np.fromfile(logits_file, np.float32).reshape(len(sequence), -1)
        rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))
        steps = []
        for i, step in enumerate(greedy.logits[0]):
            ref = np.array(step).reshape(-1)
            allowed = np.abs(ref) < 1e30  # CTranslate2 returns suppressed tokens as -inf
            a = log_softmax(ref[allowed])
            b = log_softmax(cpp_logits[len(prompt) - 1 + i][: ref.shape[0]][allowed])
            top = np.argsort(-a)[:5]
            steps.append({"same_argmax": bool(a.argmax() == b.argmax()), "top5_logprob_diff": float(np.abs(a[top] - b[top]).max())})
        clips.append({
            "wav": os.path.basename(wav),
            "text": tok.decode(greedy.sequences_ids[0]),
            "encoder_rel_error": rel(enc_cpp, enc_f32),
            "encoder_rel_error_ct2_int8": rel(enc_i8, enc_f32),
            "steps": len(steps),
            "steps_same_argmax": sum(s["same_argmax"] for s in steps),
            "max_top5_logprob_diff": max(s["top5_logprob_diff"] for s in steps),
        })
    print(json.dumps({
        "mel_filters_shape": list(filters.shape),
        "mel_filters_max_diff": float(np.abs(filters - reference_filters).max()),
        "clips": clips,
    }))


main()
