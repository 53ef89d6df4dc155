// The microphone's AudioWorklet: resamples the input to the target rate and posts frames of
// PCM16. Resampling is a windowed-sinc low-pass at the target's Nyquist, evaluated at each
// output time (TAPS is the filter's half-width in input samples at the output's spacing).
// It is shipped as source text and loaded from a Blob URL, so a page needs no second file
// and a bundler no worklet plugin.

/** The processor's name, as registered in the worklet. */
export const CAPTURE_PROCESSOR = 'ws-capture'

/** The worklet module's source. `processorOptions`: `{ targetRate, frameSamples }`. */
export const CAPTURE_WORKLET_SOURCE = `const TAPS = 16
class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super()
    const { targetRate, frameSamples } = options.processorOptions
    this.ratio = sampleRate / targetRate
    this.history = new Float32Array(0) // input not yet consumed
    this.position = 0 // next output time, in input samples from history[0]
    this.frameSamples = frameSamples
    this.frame = new Int16Array(frameSamples)
    this.filled = 0
    this.cutoff = Math.min(1, targetRate / sampleRate) * 0.95
    this.half = Math.ceil(TAPS * Math.max(1, this.ratio))
  }

  sinc(x) {
    if (x === 0) return 1
    const px = Math.PI * x
    return Math.sin(px) / px
  }

  emit(sample) {
    const s = Math.max(-1, Math.min(1, sample))
    this.frame[this.filled++] = s < 0 ? s * 32768 : s * 32767
    if (this.filled === this.frameSamples) {
      this.port.postMessage(this.frame.buffer, [this.frame.buffer])
      this.frame = new Int16Array(this.frameSamples)
      this.filled = 0
    }
  }

  process(inputs) {
    const channel = inputs[0]?.[0]
    if (!channel) return true
    if (this.ratio === 1) {
      for (let i = 0; i < channel.length; i++) this.emit(channel[i])
      return true
    }
    const joined = new Float32Array(this.history.length + channel.length)
    joined.set(this.history)
    joined.set(channel, this.history.length)
    const half = this.half
    while (this.position + half < joined.length) {
      const center = this.position
      const first = Math.max(0, Math.ceil(center - half))
      const last = Math.floor(center + half)
      let acc = 0
      let norm = 0
      for (let j = first; j <= last; j++) {
        const d = j - center
        const w = 0.5 + 0.5 * Math.cos((Math.PI * d) / (half + 1)) // Hann window
        const k = this.cutoff * this.sinc(this.cutoff * d) * w
        acc += joined[j] * k
        norm += k
      }
      this.emit(norm !== 0 ? acc / norm : 0)
      this.position += this.ratio
    }
    const drop = Math.max(0, Math.floor(this.position - half))
    this.history = joined.slice(drop)
    this.position -= drop
    return true
  }
}

registerProcessor('ws-capture', CaptureProcessor)
`
