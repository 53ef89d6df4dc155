// Captures microphone audio, resamples it to 16 kHz and posts 20 ms frames of PCM16.
// Resampling: a windowed-sinc low-pass at the target's Nyquist, evaluated at each output time.
const TARGET_RATE = 16000
const FRAME = 320 // 20 ms at 16 kHz
const TAPS = 16 // half-width of the filter, in input samples at the output's spacing

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super()
    this.ratio = sampleRate / TARGET_RATE
    this.history = new Float32Array(0) // input not yet consumed
    this.position = 0 // next output time, in input samples from history[0]
    this.frame = new Int16Array(FRAME)
    this.filled = 0
    this.cutoff = Math.min(1, TARGET_RATE / sampleRate) * 0.95
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
    if (this.filled === FRAME) {
      this.port.postMessage(this.frame.buffer, [this.frame.buffer])
      this.frame = new Int16Array(FRAME)
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

registerProcessor('capture-16k', CaptureProcessor)
