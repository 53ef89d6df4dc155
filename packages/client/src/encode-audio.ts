import { encodePcm16le, encodePcmF32le, int16ToFloat32, type SessionConfig, WsError } from '@ws/core'

/** What `sendAudio` takes: PCM16 samples, float samples in [-1, 1], or bytes already encoded. */
export type AudioInput = Int16Array | Float32Array | Uint8Array

/** The bytes to send for `audio` in the session's encoding, and how many samples they hold. */
export function encodeAudio(
  audio: AudioInput,
  encoding: SessionConfig['encoding'],
): { bytes: Uint8Array; samples: number } {
  const f32 = encoding === 'pcm_f32le'
  if (audio instanceof Float32Array) {
    return { bytes: f32 ? encodePcmF32le(audio) : encodePcm16le(audio), samples: audio.length }
  }
  if (audio instanceof Int16Array) {
    const bytes = f32
      ? encodePcmF32le(int16ToFloat32(audio))
      : new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength)
    return { bytes, samples: audio.length }
  }
  if (audio instanceof Uint8Array) return { bytes: audio, samples: audio.byteLength / (f32 ? 4 : 2) }
  throw new WsError('invalid_audio', 'Audio must be an Int16Array, a Float32Array or a Buffer')
}
