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

Several requests may be in flight, and every response names its request id. Requests that
are waiting together, have a known language, at most 30 s of audio and the same options run
as one batch through CTranslate2 (--max-batch, default 4): one encoder pass and one decoder
pass for all, each with its own prompt, at temperature 0. Others run one at a time through
faster-whisper's transcribe (with its temperature fallback and language detection).
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
    parser.add_argument("--max-batch", type=int, default=4, help="requests run as one batch at most (1: never batch)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling at fallback temperatures, set per request")
    args = parser.parse_args()

    try:
        import numpy as np
        import faster_whisper
        from faster_whisper import WhisperModel
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens
        import ctranslate2
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
        # The temperature fallback samples; seeding per request makes the same audio give the
        # same text whatever ran before it.
        ctranslate2.set_random_seed(args.seed)
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
            words = [{"start": w.start, "end": w.end, "word": w.word, "probability": w.probability} for w in (seg.words or [])]
            out.append(segment_dict(seg.text, seg.start, seg.end, words, duration, words_wanted))
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

    def segment_dict(seg_text, start, end, words, duration, words_wanted):
        item = {
            "start": round(max(0.0, min(start, duration)), 3),
            "end": round(max(0.0, min(end, duration)), 3),
            "text": seg_text.strip(),
        }
        if words_wanted:
            item["words"] = [
                {
                    "start": round(max(0.0, min(w["start"], duration)), 3),
                    "end": round(max(0.0, min(w["end"], duration)), 3),
                    "text": w["word"].strip(),
                    "probability": round(float(w["probability"]), 4),
                }
                for w in words
                if w["word"].strip()
            ]
        return item

    def batch_key(header, payload):
        """Requests with the same key can run as one batch; None: run alone."""
        try:
            audio, language, task = check(header, payload)
        except RequestError:
            return None
        if language is None and multilingual:
            return None  # language detection runs per request
        if len(audio) > 30 * SAMPLE_RATE:
            return None  # longer audio needs faster-whisper's seek loop
        beam = int(header.get("beam_size") or args.beam_size)
        # CTranslate2 needs <|startoftranscript|> at the same position in every row of a
        # batch: only prompts of the same token count (after get_prompt's cut) go together.
        text = (header.get("initial_prompt") or "").strip()
        prompt_tokens = len(model.hf_tokenizer.encode(" " + text, add_special_tokens=False).ids) if text else 0
        prompt_tokens = min(prompt_tokens, model.max_length // 2 - 1)
        return (language or "en", task, bool(header.get("word_timestamps")), beam, prompt_tokens)

    def run_batch(items, key):
        """One encoder and decoder pass for several requests (as faster-whisper's
        BatchedInferencePipeline does, but with each request's own prompt). Returns the
        requests whose result failed faster-whisper's quality checks (a decoding loop, a low
        log-probability): they need its temperature fallback, so they run alone."""
        language, task, words_wanted, beam, _ = key
        t0 = time.perf_counter()
        tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task=task, language=language)
        audios = [check(h, p)[0] for h, p in items]
        features = np.stack([pad_or_trim(model.feature_extractor(a)[..., :-1]) for a in audios])
        encoder_output = model.encode(features)
        prompts = []
        for header, _ in items:
            text = header.get("initial_prompt") or ""
            previous = tokenizer.encode(" " + text.strip()) if text.strip() else []
            prompts.append(model.get_prompt(tokenizer, previous_tokens=previous, without_timestamps=False))
        results = model.model.generate(
            encoder_output,
            prompts,
            beam_size=beam,
            patience=1,
            length_penalty=1,
            max_length=model.max_length,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
            return_scores=True,
            return_no_speech_prob=True,
        )
        per_item = []
        sizes = []
        retry = []
        kept = []
        for row, (item, audio, result) in enumerate(zip(items, audios, results)):
            duration = len(audio) / SAMPLE_RATE
            tokens = result.sequences_ids[0]
            avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
            text = tokenizer.decode([t for t in tokens if t < tokenizer.eot])
            if result.no_speech_prob > 0.6 and avg_logprob < -1.0:
                segs = []  # silence, by faster-whisper's no-speech rule
            elif get_compression_ratio(text) > 2.4 or avg_logprob < -1.0:
                retry.append(item)  # would take faster-whisper's temperature fallback
                continue
            else:
                size = int(math.ceil(duration) * model.frames_per_second)
                subsegments, _, _ = model._split_segments_by_timestamps(
                    tokenizer=tokenizer, tokens=tokens, time_offset=0.0, segment_size=size, segment_duration=duration, seek=0
                )
                segs = [dict(text=tokenizer.decode(s["tokens"]), tokens=s["tokens"], start=s["start"], end=s["end"], seek=0) for s in subsegments]
            kept.append((row, item, audio))
            sizes.append(int(math.ceil(duration) * model.frames_per_second))
            per_item.append(segs)
        if words_wanted:
            spoken = [i for i, segs in enumerate(per_item) if segs]
            if spoken:
                if len(spoken) == len(items):
                    encoded = encoder_output
                else:  # align only the requests that said something: their rows of the encoder output
                    rows = np.array(encoder_output)[[kept[i][0] for i in spoken]]
                    encoded = ctranslate2.StorageView.from_array(np.ascontiguousarray(rows))
                model.add_word_timestamps(
                    [per_item[i] for i in spoken], tokenizer, encoded, [sizes[i] for i in spoken],
                    "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、", 0.0,
                )
        elapsed = round((time.perf_counter() - t0) * 1000, 1)
        for (_, (header, _), audio), segs in zip(kept, per_item):
            duration = len(audio) / SAMPLE_RATE
            out = [segment_dict(s["text"], s["start"], s["end"], s.get("words") or [], duration, words_wanted) for s in segs]
            send(
                {
                    "type": "result",
                    "id": header["id"],
                    "text": " ".join(x["text"] for x in out if x["text"]),
                    "segments": out,
                    "language": language,
                    "language_probability": 1.0,
                    "duration": duration,
                    "processing_time_ms": elapsed,
                    "batch_size": len(items),
                }
            )
        return retry

    def run_one(header, payload):
        rid = header.get("id")
        try:
            send(transcribe(header, payload))
        except RequestError as exc:
            send({"type": "error", "id": rid, "code": exc.code, "message": str(exc)})
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            send({"type": "error", "id": rid, "code": "backend_failed", "message": f"{type(exc).__name__}: {exc}"})

    stopping = False
    while not stopping:
        first = requests.get()
        if first is None:
            break
        waiting = [first]
        while len(waiting) < max(1, args.max_batch):
            # Take what else is waiting; requests sent together arrive within a few ms.
            try:
                nxt = requests.get(timeout=0.005)
            except queue.Empty:
                break
            if nxt is None:
                stopping = True
                break
            waiting.append(nxt)
        live = []
        for header, payload in waiting:
            rid = header.get("id")
            if rid in cancelled:
                cancelled.discard(rid)
                send({"type": "error", "id": rid, "code": "aborted", "message": "cancelled"})
            else:
                live.append((header, payload))
        groups = {}
        alone = []
        for header, payload in live:
            key = batch_key(header, payload) if args.max_batch > 1 else None
            (groups.setdefault(key, []) if key is not None else alone).append((header, payload))
        for key, items in groups.items():
            if len(items) == 1:
                alone.extend(items)
                continue
            try:
                alone.extend(run_batch(items, key))
            except Exception:
                traceback.print_exc(file=sys.stderr)
                alone.extend(items)  # fall back to one at a time
        for header, payload in alone:
            run_one(header, payload)
            cancelled.discard(header.get("id"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
