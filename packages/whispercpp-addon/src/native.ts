/** The native module's surface (src/native/*.cc). Times are in centiseconds, as whisper.cpp gives them. */
export interface NativeToken {
  id: number
  text: string
  p: number
  logp: number
  t0: number
  t1: number
  tDtw: number
}

export interface NativeSegment {
  t0: number
  t1: number
  text: string
  noSpeechProb: number
  avgLogprob: number
  tokens?: NativeToken[]
}

export interface NativeResult {
  language: string
  segments: NativeSegment[]
}

export interface NativeModelInfo {
  type: string
  multilingual: boolean
  vocab: number
  audioLayers: number
  textLayers: number
  mels: number
  states: number
}

export interface NativeContext {
  transcribe(audio: Float32Array, params: object, abortFlag?: Int32Array): Promise<NativeResult>
  free(): Promise<void>
  info(): NativeModelInfo | null
}

export interface NativeAddon {
  loadBackends(
    dir: string,
    cpuVariant?: string,
  ): {
    devices: { name: string; description: string }[]
    features: Record<string, string>
  }
  setLogger(fn: ((level: number, line: string) => void) | null, minLevel?: number): void
  systemInfo(): string
  version: string
  WhisperContext: {
    load(
      path: string,
      options: { gpu?: boolean; flashAttn?: boolean; dtw?: string; dtwTopLayers?: number },
    ): Promise<NativeContext>
  }
}
