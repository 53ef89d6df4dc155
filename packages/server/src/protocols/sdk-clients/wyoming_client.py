"""A Wyoming speech-to-text client on the official `wyoming` package (unmodified), doing what
Home Assistant's Wyoming integration does: `describe`, or `transcribe` + `audio-start` +
`audio-chunk`s + `audio-stop`, reading the answer while it sends. Used by wyoming.client.test.ts;
its environment: wyoming.requirements.txt.
  CLIENT='{"host":"127.0.0.1","port":10300,"mode":"transcribe","audio":"speech.raw"}' \
    python wyoming_client.py
`mode`: `describe`, or `transcribe` with `audio` (raw 16 kHz mono PCM16) sent in 100 ms
chunks at `speed`x real time (0: at once), converted first by wyoming's own AudioChunkConverter
to `format` ({rate, width, channels}; default 16000/2/1, what Home Assistant sends). `language`
goes in `transcribe`. `disconnect_after_s`: drop the connection after that much audio, with no
`audio-stop`. `format_only`: send `transcribe` and `audio-start` in `format`, then only read.
Prints one JSON line per event received (`sent_stop`: whether `audio-stop` had been sent), then
client.done, or client.exception (exit code 1).
"""

import asyncio
import json
import os
import sys

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe, Info

RATE = 16_000
FRAME_BYTES = RATE // 10 * 2  # 100 ms of PCM16


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def describe_event(event, sent_stop):
    m = {"type": event.type, "sent_stop": sent_stop}
    if Info.is_type(event.type):
        info = Info.from_event(event)
        m["asr"] = [
            {
                "name": p.name,
                "installed": p.installed,
                "version": p.version,
                "supports_transcript_streaming": p.supports_transcript_streaming,
                "models": [{"name": x.name, "languages": x.languages} for x in p.models],
            }
            for p in info.asr
        ]
    elif Transcript.is_type(event.type):
        t = Transcript.from_event(event)
        m.update(text=t.text, language=t.language)
    elif TranscriptChunk.is_type(event.type):
        m["text"] = TranscriptChunk.from_event(event).text
    elif TranscriptStart.is_type(event.type):
        m["language"] = TranscriptStart.from_event(event).language
    elif Error.is_type(event.type):
        e = Error.from_event(event)
        m.update(text=e.text, code=e.code)
    return m


async def read_all(client, state):
    while True:
        event = await client.read_event()
        if event is None:
            emit({"type": "client.closed"})
            return
        emit(describe_event(event, state["sent_stop"]))
        if TranscriptStop.is_type(event.type) or Info.is_type(event.type):
            return


async def main():
    config = json.loads(os.environ["CLIENT"])
    client = AsyncTcpClient(config["host"], config["port"], read_timeout=60)
    await client.connect()
    emit({"type": "client.connected"})
    state = {"sent_stop": False}
    if config.get("mode") == "describe":
        await client.write_event(Describe().event())
        await read_all(client, state)
        await client.disconnect()
        return

    fmt = config.get("format") or {"rate": RATE, "width": 2, "channels": 1}
    converter = AudioChunkConverter(rate=fmt["rate"], width=fmt["width"], channels=fmt["channels"])
    reader = asyncio.create_task(read_all(client, state))
    await client.write_event(Transcribe(language=config.get("language")).event())
    await client.write_event(AudioStart(rate=fmt["rate"], width=fmt["width"], channels=fmt["channels"]).event())
    if config.get("format_only"):
        await reader
        await client.disconnect()
        return

    with open(config["audio"], "rb") as f:
        pcm = f.read()
    speed = config.get("speed", 4)
    stop_at = config.get("disconnect_after_s")
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n, at in enumerate(range(0, len(pcm), FRAME_BYTES)):
        if stop_at is not None and at >= stop_at * RATE * 2:
            # Gone mid-stream: no audio-stop, the socket just closes.
            client._writer.transport.abort()
            reader.cancel()
            emit({"type": "client.disconnected", "sent_s": at / RATE / 2})
            return
        chunk = AudioChunk(rate=RATE, width=2, channels=1, audio=pcm[at : at + FRAME_BYTES])
        await client.write_event(converter.convert(chunk).event())
        if speed > 0:
            wait = started + (n + 1) * 0.1 / speed - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
    await client.write_event(AudioStop().event())
    state["sent_stop"] = True
    await reader
    await client.disconnect()


try:
    asyncio.run(main())
    emit({"type": "client.done"})
except Exception as e:  # noqa: BLE001 - reported to the test
    emit({"type": "client.exception", "message": repr(e)})
    sys.exit(1)
