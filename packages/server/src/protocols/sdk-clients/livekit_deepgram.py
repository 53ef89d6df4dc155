"""An app on LiveKit Agents' Deepgram STT plugin (livekit-plugins-deepgram), unmodified but for
its base URL, streaming audio to a live transcription outside an agent job (it is given its own
aiohttp session). Used by python-clients.test.ts; its environment: livekit_deepgram.requirements.txt.
  CLIENT='{"url":"http://127.0.0.1:8765/v1/listen","apiKey":"…","audio":"speech.raw","speed":4}' \
    python livekit_deepgram.py
`audio` is raw 16 kHz mono PCM16, pushed as 100 ms rtc.AudioFrames at `speed`x real time, then
end_input() (the plugin then sends Finalize and CloseStream). `options`: more STT(...) arguments.
Prints one JSON line per SpeechEvent, connection and error, with `at_ms` (ms since the first
audio was pushed); the last line is client.done, or client.exception (exit code 1).
"""

import asyncio
import json
import logging
import os
import sys
import time

import aiohttp
from livekit import rtc
from livekit.plugins import deepgram

RATE = 16_000
FRAME = RATE // 10  # 100 ms
first_audio_at = None


def emit(message):
    at = None if first_audio_at is None else round((time.perf_counter() - first_audio_at) * 1000)
    sys.stdout.write(json.dumps({**message, "at_ms": at}) + "\n")
    sys.stdout.flush()


def on_metrics(m):
    # One with no audio and an acquire time per WebSocket connection the plugin opens.
    if m.audio_duration == 0 and m.acquire_time > 0:
        emit({"type": "client.connected", "acquire_ms": round(m.acquire_time * 1000)})


def on_error(e):
    emit({"type": "client.error", "message": repr(e.error), "recoverable": e.recoverable})


def event_message(ev):
    m = {"type": ev.type.value, "request_id": ev.request_id}
    if ev.alternatives:
        alt = ev.alternatives[0]
        m.update(
            text=alt.text,
            start_time=alt.start_time,
            end_time=alt.end_time,
            confidence=alt.confidence,
            language=str(alt.language),
            words=len(alt.words or []),
        )
    if ev.recognition_usage is not None:
        m["audio_duration"] = ev.recognition_usage.audio_duration
    return m


async def main(c):
    global first_audio_at
    with open(c["audio"], "rb") as f:
        audio = f.read()
    async with aiohttp.ClientSession() as session:
        stt = deepgram.STT(
            api_key=c["apiKey"], base_url=c["url"], http_session=session, **c.get("options", {})
        )
        stt.on("metrics_collected", on_metrics)
        stt.on("error", on_error)
        stream = stt.stream()

        async def read():
            async for ev in stream:
                emit(event_message(ev))

        reader = asyncio.create_task(read())
        speed = c.get("speed", 1)
        first_audio_at = time.perf_counter()
        step = FRAME * 2
        for n, i in enumerate(range(0, len(audio), step)):
            chunk = audio[i : i + step]
            stream.push_frame(
                rtc.AudioFrame(
                    data=chunk,
                    sample_rate=RATE,
                    num_channels=1,
                    samples_per_channel=len(chunk) // 2,
                )
            )
            wait = first_audio_at + (n + 1) * 0.1 / speed - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
        stream.end_input()
        await asyncio.wait_for(reader, c.get("timeoutMs", 60_000) / 1000)
        await stream.aclose()
        await stt.aclose()
    emit({"type": "client.done"})


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        asyncio.run(main(json.loads(os.environ.get("CLIENT", "{}"))))
    except BaseException as e:  # noqa: BLE001 - reported to the test, which fails on it
        emit({"type": "client.exception", "message": f"{type(e).__name__}: {e}"})
        sys.exit(1)
