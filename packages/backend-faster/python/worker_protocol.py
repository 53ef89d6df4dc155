"""The frames @ws/backend-faster's worker speaks on stdin/stdout, and its requests and results.

A frame is two little-endian uint32 (the JSON header's length, the payload's length), the UTF-8
JSON header, then the payload (raw float32 little-endian audio for `transcribe`, empty
otherwise). No base64, no line protocol.

    worker -> node  {"type":"ready", ...}                     once the model is loaded
                    {"type":"fatal","code","message"}         before ready, then exit
    node -> worker  {"type":"transcribe","id",...} + audio
                    {"type":"cancel","id"}                    best effort, between segments
                    {"type":"shutdown"}                       (or end of stdin)
    worker -> node  {"type":"result","id",...}  |  {"type":"error","id","code","message"}

Several requests may be in flight, and every response names its request id.
"""

import json
import struct
import sys
import threading

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


class Request:
    """A checked `transcribe` request: validated once, when it arrives."""

    def __init__(
        self, rid, audio, language, task, words, beam, prompt, preview=False, margin_ms=0, fallback=True, no_speech=True,
    ):
        self.id = rid
        self.audio = audio
        self.language = language
        self.task = task
        self.words = words
        self.beam = beam
        self.prompt = prompt
        self.preview = preview
        self.margin_ms = margin_ms  # silence after the audio in the window; 0: the full 30 s
        self.fallback = fallback  # faster-whisper's temperature fallback, when it runs the request
        self.prompt_ids = None  # the prompt's tokens, once the worker has encoded them
        # faster-whisper's no-speech rule (a window over 0.6 no speech whose text is under -1
        # average log-probability gives no text, and is not sampled again); None: off.
        self.no_speech_threshold = 0.6 if no_speech else None

    @property
    def duration(self):
        return len(self.audio) / SAMPLE_RATE


def parse_request(header, payload, default_beam):
    """Reads a request; raises RequestError with the protocol's code. The backend already
    checked the audio and options (finite samples, English-only models): this only checks
    that the frame is one the worker can read."""
    if header.get("sample_rate") != SAMPLE_RATE:
        raise RequestError("unsupported_sample_rate", f"audio must be {SAMPLE_RATE} Hz")
    if len(payload) == 0 or len(payload) % 4:
        raise RequestError("invalid_audio", "audio must be a non-empty run of float32 samples")
    import numpy as np  # imported here: the worker reports a venv without it as setup_failed

    audio = np.frombuffer(payload, dtype="<f4")
    language = header.get("language")
    task = header.get("task") or "transcribe"
    return Request(
        rid=header["id"],
        audio=audio.astype(np.float32),
        language=language,
        task=task,
        words=bool(header.get("word_timestamps")),
        beam=int(header.get("beam_size") or default_beam),
        prompt=(header.get("initial_prompt") or "").strip(),
        preview=bool(header.get("preview")),
        margin_ms=max(0, int(header.get("window_margin_ms") or 0)),
        fallback=header.get("fallback", True) is not False,
        no_speech=header.get("no_speech", True) is not False,
    )


def clamp(t, duration):
    return round(max(0.0, min(t, duration)), 3)


def segment_dict(text, start, end, words, duration, words_wanted, no_speech_prob=None, avg_logprob=None):
    """A segment as the Node side reads it; `words` are (start, end, text, probability); the
    window's no-speech probability and the text's average log-probability when known."""
    item = {"start": clamp(start, duration), "end": clamp(end, duration), "text": text.strip()}
    if no_speech_prob is not None:
        item["no_speech_prob"] = round(float(no_speech_prob), 4)
        item["avg_logprob"] = round(float(avg_logprob), 4)
    if words_wanted:
        item["words"] = [
            {"start": clamp(ws, duration), "end": clamp(we, duration), "text": wt.strip(), "probability": round(float(wp), 4)}
            for ws, we, wt, wp in words
            if wt.strip()
        ]
    return item


def result_header(req, segments, language, batch_size=1, window_s=30.0):
    """The `result` frame: exactly the fields the Node side reads."""
    return {
        "type": "result",
        "id": req.id,
        "text": " ".join(s["text"] for s in segments if s["text"]),
        "segments": segments,
        "language": language,
        "batch_size": batch_size,
        "window_s": round(window_s, 2),
    }


def batch_words(segment):
    """The words faster-whisper's aligner attached to a batch segment, as (start, end, text, probability)."""
    return [(w["start"], w["end"], w["word"], w["probability"]) for w in (segment.get("words") or [])]


def error_header(rid, code, message):
    return {"type": "error", "id": rid, "code": code, "message": message}
