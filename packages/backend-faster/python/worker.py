"""faster-whisper worker for @ws/backend-faster.

Speaks frames on stdin/stdout. A frame is two little-endian uint32 (the JSON header's length,
the payload's length), the UTF-8 JSON header, then the payload (raw float32 little-endian
audio for `transcribe`, empty otherwise). No base64, no line protocol.

    worker -> node  {"type":"ready", ...}                     once the model is loaded
                    {"type":"fatal","code","message"}         before ready, then exit
    node -> worker  {"type":"transcribe","id",...} + audio
                    {"type":"cancel","id"}                    best effort, between segments
                    {"type":"shutdown"}                       (or end of stdin)
    worker -> node  {"type":"result","id",...}  |  {"type":"error","id","code","message"}

Several requests may be in flight; they run one at a time, and every response names its
request id, so a worker could also run waiting requests as one batch. Measured on 2 CPU
cores, batching 4 requests through CTranslate2 gave 0.90x (greedy) to 1.15x (beam 5) the
throughput of running them in turn (bench/batching.py), too little to give up per-request
prompts, word timestamps and temperature fallback.
"""

import argparse
import json
import math
import os
import queue
import struct
import sys
import threading
import time
import traceback

HEADER = struct.Struct("<II")
SAMPLE_RATE = 16000
out_lock = threading.Lock()


def send(obj, payload=b""):
    data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    with out_lock:
        sys.stdout.buffer.write(HEADER.pack(len(data), len(payload)))
        sys.stdout.buffer.write(data)
        if payload:
            sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()


def read_exact(stream, n):
    chunks = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(stream):
    head = read_exact(stream, HEADER.size)
    if head is None:
        return None, None
    header_len, payload_len = HEADER.unpack(head)
    header = read_exact(stream, header_len)
    payload = read_exact(stream, payload_len) if payload_len else b""
    if header is None or payload is None:
        return None, None
    return json.loads(header.decode("utf-8")), payload


class RequestError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="directory of a CTranslate2 Whisper model")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--cpu-threads", type=int, default=0)
    parser.add_argument("--beam-size", type=int, default=5)
    args = parser.parse_args()

    try:
        import numpy as np
        import faster_whisper
        from faster_whisper import WhisperModel
    except Exception as exc:  # the venv is broken or incomplete
        send({"type": "fatal", "code": "setup_failed", "message": f"cannot import faster-whisper: {exc}"})
        return 3

    if not os.path.isfile(os.path.join(args.model, "model.bin")):
        send({"type": "fatal", "code": "model_not_found", "message": f"no model.bin in {args.model}"})
        return 2
    started = time.perf_counter()
    try:
        model = WhisperModel(
            args.model,
            device=args.device,
            compute_type=args.compute_type,
            cpu_threads=args.cpu_threads,
            num_workers=1,
        )
    except Exception as exc:
        send({"type": "fatal", "code": "model_load_failed", "message": f"cannot load {args.model}: {exc}"})
        return 2
    multilingual = bool(model.model.is_multilingual)
    send(
        {
            "type": "ready",
            "pid": os.getpid(),
            "model": args.model,
            "multilingual": multilingual,
            "load_time_ms": round((time.perf_counter() - started) * 1000),
            "faster_whisper": faster_whisper.__version__,
        }
    )

    requests = queue.Queue()
    cancelled = set()

    def reader():
        stdin = sys.stdin.buffer
        while True:
            try:
                header, payload = read_frame(stdin)
            except Exception as exc:
                sys.stderr.write(f"worker: unreadable frame: {exc}\n")
                header = None
            if header is None or header.get("type") == "shutdown":
                requests.put(None)
                return
            kind = header.get("type")
            if kind == "cancel":
                cancelled.add(header.get("id"))
            elif kind == "transcribe":
                requests.put((header, payload))
            else:
                send({"type": "error", "id": header.get("id"), "code": "invalid_message", "message": f"unknown type {kind!r}"})

    threading.Thread(target=reader, daemon=True).start()

    def check(header, payload):
        if header.get("sample_rate") != SAMPLE_RATE:
            raise RequestError("unsupported_sample_rate", f"audio must be {SAMPLE_RATE} Hz")
        if len(payload) == 0 or len(payload) % 4:
            raise RequestError("invalid_audio", "audio must be a non-empty run of float32 samples")
        audio = np.frombuffer(payload, dtype="<f4")
        if not np.isfinite(audio).all():
            raise RequestError("invalid_audio", "audio has non-finite samples")
        language = header.get("language")
        task = header.get("task") or "transcribe"
        if not multilingual and language not in (None, "en"):
            raise RequestError("invalid_config", f"this model is English-only; it cannot take language {language!r}")
        if not multilingual and task == "translate":
            raise RequestError("invalid_config", "this model is English-only; it cannot translate")
        return audio.astype(np.float32), language, task

    def transcribe(header, payload):
        rid = header["id"]
        audio, language, task = check(header, payload)
        duration = len(audio) / SAMPLE_RATE
        t0 = time.perf_counter()
        words_wanted = bool(header.get("word_timestamps"))
        segments, info = model.transcribe(
            audio,
            language=language,
            task=task,
            initial_prompt=header.get("initial_prompt") or None,
            word_timestamps=words_wanted,
            beam_size=int(header.get("beam_size") or args.beam_size),
            vad_filter=False,
            condition_on_previous_text=False,
        )
        out = []
        for seg in segments:
            if rid in cancelled:
                raise RequestError("aborted", "cancelled")
            item = {
                "start": round(max(0.0, min(seg.start, duration)), 3),
                "end": round(max(0.0, min(seg.end, duration)), 3),
                "text": seg.text.strip(),
            }
            if words_wanted:
                item["words"] = [
                    {
                        "start": round(max(0.0, min(w.start, duration)), 3),
                        "end": round(max(0.0, min(w.end, duration)), 3),
                        "text": w.word.strip(),
                        "probability": round(float(w.probability), 4),
                    }
                    for w in (seg.words or [])
                    if w.word.strip()
                ]
            out.append(item)
        return {
            "type": "result",
            "id": rid,
            "text": " ".join(s["text"] for s in out if s["text"]),
            "segments": out,
            "language": info.language,
            "language_probability": round(float(info.language_probability), 4),
            "duration": duration,
            "processing_time_ms": round((time.perf_counter() - t0) * 1000, 1),
        }

    while True:
        item = requests.get()
        if item is None:
            break
        header, payload = item
        rid = header.get("id")
        if rid in cancelled:
            cancelled.discard(rid)
            send({"type": "error", "id": rid, "code": "aborted", "message": "cancelled"})
            continue
        try:
            send(transcribe(header, payload))
        except RequestError as exc:
            send({"type": "error", "id": rid, "code": exc.code, "message": str(exc)})
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            send({"type": "error", "id": rid, "code": "backend_failed", "message": f"{type(exc).__name__}: {exc}"})
        finally:
            cancelled.discard(rid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
