import { spawn } from 'node:child_process'
import { resample } from '../audio/resample.js'
import { readWavMono } from '../audio/wav.js'
import { WsError } from '../errors.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'

/**
 * Audio file bytes to 16 kHz mono: WAV (any rate, any channels) is read here; any other
 * format goes through `ffmpeg` when it is on the PATH. Throws `invalid_audio` when the bytes
 * cannot be decoded or ffmpeg is missing for a non-WAV file.
 */
export async function decodeAudio(bytes: Uint8Array): Promise<Float32Array> {
  if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF') {
    const { sampleRate, samples } = readWavMono(bytes)
    return sampleRate === WHISPER_SAMPLE_RATE ? samples : resample(samples, sampleRate, WHISPER_SAMPLE_RATE)
  }
  return ffmpegDecode(bytes)
}

function ffmpegDecode(bytes: Uint8Array): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', [
      '-v',
      'error',
      '-i',
      'pipe:0',
      '-f',
      'f32le',
      '-ac',
      '1',
      '-ar',
      '16000',
      'pipe:1',
    ])
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    child.stdin.on('error', () => {}) // ffmpeg may stop reading early on bad input
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new WsError(
              'invalid_audio',
              'This is not a WAV file, and ffmpeg (which reads other formats) is not on the PATH',
            )
          : new WsError('internal_error', `ffmpeg failed to start: ${e.message}`),
      ),
    )
    child.on('close', (code) => {
      if (code !== 0) {
        const line = err.trim().split('\n').pop() ?? ''
        reject(new WsError('invalid_audio', `The audio could not be decoded${line ? `: ${line}` : ''}`))
        return
      }
      const all = Buffer.concat(out)
      const samples = new Float32Array(all.length >> 2)
      for (let i = 0; i < samples.length; i++) samples[i] = all.readFloatLE(i * 4)
      resolve(samples)
    })
    child.stdin.end(bytes)
  })
}
