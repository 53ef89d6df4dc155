"""faster-whisper worker for @ws/backend-faster.

Speaks frames on stdin/stdout (see worker_protocol.py): requests to transcribe audio in, results
and errors out, several in flight, each response naming its request id.

A request with a known language and at most 30 s of audio runs on a window only as long as its
audio plus the silence it asks for (`window_margin_ms`), not on faster-whisper's fixed 30 s: the
encoder's cost grows with the window, so a 3 s sentence takes a third of the time. Such requests
that are waiting together with the same options run as one batch (--max-batch, default 4): one
encoder and one decoder pass for all, each with its own prompt, at temperature 0. A final that
fails faster-whisper's quality checks (a decoding loop, a low log-probability), and any other
request, runs through faster-whisper's transcribe: the full window, its temperature fallback
(not for a request with `fallback: false`, a live final) and language detection. A preview (a
partial, replaced later) is returned as it is decoded.
"""

import argparse
import collections
import math
import os
import queue
import sys
import threading
import time
import traceback

from worker_protocol import (
    send,
    read_frame,
    RequestError,
    parse_request,
    segment_dict,
    result_header,
    batch_words,
    error_header,
    SAMPLE_RATE,
)

HOP_SAMPLES = 160  # samples per log-Mel frame
FULL_WINDOW_FRAMES = 3000  # Whisper's 30 s window
MAX_TOKENS_PER_SECOND = 10
BatchKey = collections.namedtuple("BatchKey", "language task words beam preview margin_ms prompt_tokens")


class Worker:
    """The loaded model and what runs on it: one request through faster-whisper, or a batch."""

    def __init__(self, model, args):
        self.model = model
        self.args = args
        self.multilingual = bool(model.model.is_multilingual)
        self.cancelled = set()

    def transcribe(self, req):
        # The temperature fallback samples; seeding per request makes the same audio give the
        # same text whatever ran before it, where the matrix products are reproducible (Intel
        # MKL; oneDNN, CTranslate2's choice on AMD processors, is not).
        ctranslate2.set_random_seed(self.args.seed)
        # Audio that fits one window gets its words aligned afterwards, as a batch's do: with
        # word_timestamps faster-whisper seeks back to the last word's end and decodes the
        # silence after it again, which it answered with a made-up "All right." or dots
        # (`prompt` finals on the real English streams: 2.4 % WER without words, 16.7 % with).
        align_after = req.words and len(req.audio) <= 30 * SAMPLE_RATE
        segments, info = self.model.transcribe(
            req.audio,
            language=req.language,
            task=req.task,
            initial_prompt=req.prompt or None,
            word_timestamps=req.words and not align_after,
            beam_size=req.beam,
            vad_filter=False,
            condition_on_previous_text=False,
            no_speech_threshold=req.no_speech_threshold,
            # Where someone waits (a live final), no temperature fallback: on real telephone
            # speech it only ever sampled a made-up tail, for 1-10 s.
            **({} if req.fallback else {"temperature": 0.0}),
        )
        out = []
        decoded = []
        for seg in segments:
            if req.id in self.cancelled:
                raise RequestError("aborted", "cancelled")
            words = [(w.start, w.end, w.word, w.probability) for w in (seg.words or [])]
            scores = dict(no_speech_prob=seg.no_speech_prob, avg_logprob=seg.avg_logprob)
            decoded.append(dict(text=seg.text, tokens=list(seg.tokens), start=seg.start, end=seg.end, seek=0, **scores))
            out.append(segment_dict(seg.text, seg.start, seg.end, words, req.duration, req.words, **scores))
        if align_after and decoded:
            out = self.aligned(req, decoded, info.language)
        return result_header(req, out, info.language)

    def aligned(self, req, decoded, language):
        """The segments of one window's decode with their words: every segment's tokens aligned
        at once on the window's encoder output (faster-whisper's aligner, as for a batch)."""
        model = self.model
        tokenizer = Tokenizer(model.hf_tokenizer, self.multilingual, task=req.task, language=language)
        # faster-whisper's own features, as its decode saw them.
        encoder_output = model.encode(np.stack([pad_or_trim(model.feature_extractor(req.audio)[..., :-1])]))
        size = int(math.ceil(req.duration) * model.frames_per_second)
        model.add_word_timestamps(
            [decoded], tokenizer, encoder_output, [size], "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、", 0.0,
        )
        return [
            segment_dict(s["text"], s["start"], s["end"], batch_words(s), req.duration, True, s["no_speech_prob"], s["avg_logprob"])
            for s in decoded
        ]

    def batch_key(self, req):
        """Requests with the same key can run as one batch; None: run alone, through
        faster-whisper's transcribe. Encodes the request's prompt once, for both uses."""
        if req.language is None and self.multilingual:
            return None  # language detection runs per request
        if len(req.audio) > 30 * SAMPLE_RATE:
            return None  # longer audio needs faster-whisper's seek loop
        # CTranslate2 needs <|startoftranscript|> at the same position in every row of a
        # batch: only prompts of the same token count (after get_prompt's cut) go together.
        req.prompt_ids = self.model.hf_tokenizer.encode(" " + req.prompt, add_special_tokens=False).ids if req.prompt else []
        prompt_tokens = min(len(req.prompt_ids), self.model.max_length // 2 - 1)
        return BatchKey(req.language or "en", req.task, req.words, req.beam, req.preview, req.margin_ms, prompt_tokens)

    def features(self, req, frames):
        """The log-Mel features of the request's audio followed by silence, `frames` long: the
        silence is padded as audio, before the spectrogram, as Whisper saw it in training; a
        reduced window padded with zeros after the spectrogram makes tiny.en loop."""
        if req.margin_ms == 0:  # faster-whisper's own features, for its 30 s window
            return pad_or_trim(self.model.feature_extractor(req.audio)[..., :-1])
        padding = frames * HOP_SAMPLES - len(req.audio) + HOP_SAMPLES
        return pad_or_trim(self.model.feature_extractor(req.audio, padding=padding)[..., :-1], frames)

    def run_windowed(self, reqs, key):
        """One encoder pass over a window just long enough for the longest request plus the
        key's margin (at most 30 s), and one decoder pass, for one request or several (as
        faster-whisper's BatchedInferencePipeline does, but with each request's own prompt).
        Returns the finals whose result failed faster-whisper's quality checks (a decoding
        loop, a low log-probability, a result cut at the length limit): they need its
        temperature fallback and full window. Previews are answered as they come out."""
        model = self.model
        tokenizer = Tokenizer(model.hf_tokenizer, self.multilingual, task=key.task, language=key.language)
        frames = FULL_WINDOW_FRAMES
        if key.margin_ms > 0:
            longest = max(len(r.audio) for r in reqs) // HOP_SAMPLES + 1
            frames = min(longest + key.margin_ms // 10, FULL_WINDOW_FRAMES)
            frames -= frames % 2  # the encoder halves it
        features = np.stack([self.features(r, frames) for r in reqs])
        encoder_output = model.encode(features)
        prompts = [model.get_prompt(tokenizer, previous_tokens=r.prompt_ids, without_timestamps=False) for r in reqs]
        # Speech holds at most ~5 tokens a second; a row that reaches this limit is looping.
        limit = min(model.max_length, len(prompts[0]) + int(MAX_TOKENS_PER_SECOND * max(r.duration for r in reqs)) + 8)
        results = model.model.generate(
            encoder_output,
            prompts,
            beam_size=key.beam,
            patience=1,
            length_penalty=1,
            max_length=limit,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
            return_scores=True,
            return_no_speech_prob=True,
        )
        kept = []  # (row, request, segments, size)
        retry = []
        for row, (req, result) in enumerate(zip(reqs, results)):
            tokens = result.sequences_ids[0]
            avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
            text = tokenizer.decode([t for t in tokens if t < tokenizer.eot])
            size = int(math.ceil(req.duration) * model.frames_per_second)
            if req.no_speech_threshold is not None and result.no_speech_prob > req.no_speech_threshold and avg_logprob < -1.0:
                segs = []  # silence, by faster-whisper's no-speech rule
            elif not key.preview and (
                get_compression_ratio(text) > 2.4 or len(prompts[row]) + len(tokens) >= limit or avg_logprob < -1.0
            ):
                # To faster-whisper's temperature fallback. Not a preview: cut speech is often
                # unlikely, and a later call replaces a preview anyway (the backend decodes a
                # repeating one again on a wider window).
                retry.append(req)
                continue
            else:
                subsegments, _, _ = model._split_segments_by_timestamps(
                    tokenizer=tokenizer, tokens=tokens, time_offset=0.0, segment_size=size, segment_duration=req.duration, seek=0
                )
                scores = dict(no_speech_prob=result.no_speech_prob, avg_logprob=avg_logprob)
                segs = [dict(text=tokenizer.decode(s["tokens"]), tokens=s["tokens"], start=s["start"], end=s["end"], seek=0, **scores) for s in subsegments]
            kept.append((row, req, segs, size))
        spoken = [k for k in kept if k[2]]
        if key.words and spoken:
            if len(spoken) == len(reqs):
                encoded = encoder_output
            else:  # align only the requests that said something: their rows of the encoder output
                rows = np.array(encoder_output)[[row for row, _, _, _ in spoken]]
                encoded = ctranslate2.StorageView.from_array(np.ascontiguousarray(rows))
            model.add_word_timestamps(
                [segs for _, _, segs, _ in spoken], tokenizer, encoded, [size for _, _, _, size in spoken],
                "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、", 0.0,
            )
        for _, req, segs, _ in kept:
            out = [
                segment_dict(s["text"], s["start"], s["end"], batch_words(s), req.duration, key.words, s["no_speech_prob"], s["avg_logprob"])
                for s in segs
            ]
            send(result_header(req, out, key.language, batch_size=len(reqs), window_s=frames / 100))
        return retry

    def run_one(self, req):
        try:
            send(self.transcribe(req))
        except RequestError as exc:
            send(error_header(req.id, exc.code, str(exc)))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            send(error_header(req.id, "backend_failed", f"{type(exc).__name__}: {exc}"))

    def run(self, waiting):
        """Runs the requests that arrived together: cancelled ones answered, others batched by key."""
        groups = {}  # batch key -> requests
        single = []  # (key, [request]) when batching is off
        alone = []
        for req in waiting:
            if req.id in self.cancelled:
                self.cancelled.discard(req.id)
                send(error_header(req.id, "aborted", "cancelled"))
                continue
            key = self.batch_key(req)
            if key is None:
                alone.append(req)
            elif self.args.max_batch > 1:
                groups.setdefault(key, []).append(req)
            else:
                single.append((key, [req]))
        for key, reqs in [*groups.items(), *single]:
            if len(reqs) == 1 and key.margin_ms == 0:
                alone.extend(reqs)  # no reduced window: faster-whisper's transcribe, as it is
                continue
            try:
                alone.extend(self.run_windowed(reqs, key))
            except Exception:
                traceback.print_exc(file=sys.stderr)
                alone.extend(reqs)  # fall back to one at a time
        for req in alone:
            self.run_one(req)
            self.cancelled.discard(req.id)


def read_requests(worker, requests):
    """The stdin reader (a thread): checked requests into `requests`, cancels into the set."""
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
            worker.cancelled.add(header.get("id"))
        elif kind == "transcribe":
            try:
                requests.put(parse_request(header, payload, worker.args.beam_size))
            except RequestError as exc:
                send(error_header(header.get("id"), exc.code, str(exc)))
        else:
            send(error_header(header.get("id"), "invalid_message", f"unknown type {kind!r}"))


def serve(worker, requests):
    """Takes what waits together (requests sent at once arrive within a few ms) and runs it."""
    stopping = False
    while not stopping:
        first = requests.get()
        if first is None:
            return
        waiting = [first]
        while len(waiting) < max(1, worker.args.max_batch):
            try:
                nxt = requests.get(timeout=0.005)
            except queue.Empty:
                break
            if nxt is None:
                stopping = True
                break
            waiting.append(nxt)
        worker.run(waiting)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="directory of a CTranslate2 Whisper model")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--cpu-threads", type=int, default=0)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--max-batch", type=int, default=4, help="requests run as one batch at most (1: never batch)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling at fallback temperatures, set per request")
    return parser.parse_args()


def import_engine():
    """faster-whisper and its parts, as module globals; a broken venv raises."""
    global np, faster_whisper, WhisperModel, pad_or_trim, Tokenizer, get_compression_ratio, get_suppressed_tokens, ctranslate2
    import numpy as np
    import faster_whisper
    from faster_whisper import WhisperModel
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens
    import ctranslate2


def main():
    args = parse_args()
    try:
        import_engine()
    except Exception as exc:  # the venv is broken or incomplete
        send({"type": "fatal", "code": "setup_failed", "message": f"cannot import faster-whisper: {exc}"})
        return 3
    if not os.path.isfile(os.path.join(args.model, "model.bin")):
        send({"type": "fatal", "code": "model_not_found", "message": f"no model.bin in {args.model}"})
        return 2
    started = time.perf_counter()
    try:
        model = WhisperModel(
            args.model, device=args.device, compute_type=args.compute_type, cpu_threads=args.cpu_threads, num_workers=1
        )
    except Exception as exc:
        send({"type": "fatal", "code": "model_load_failed", "message": f"cannot load {args.model}: {exc}"})
        return 2
    worker = Worker(model, args)
    send(
        {
            "type": "ready",
            "pid": os.getpid(),
            "multilingual": worker.multilingual,
            "load_time_ms": round((time.perf_counter() - started) * 1000),
            "faster_whisper": faster_whisper.__version__,
        }
    )
    requests = queue.Queue()
    threading.Thread(target=read_requests, args=(worker, requests), daemon=True).start()
    serve(worker, requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
