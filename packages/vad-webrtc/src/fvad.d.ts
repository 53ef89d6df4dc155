declare module '@echogarden/fvad-wasm' {
  /** The Emscripten module of libfvad. */
  export interface FvadModule {
    _fvad_new(): number
    _fvad_free(instance: number): void
    _fvad_reset(instance: number): void
    _fvad_set_mode(instance: number, mode: number): number
    _fvad_set_sample_rate(instance: number, sampleRate: number): number
    _fvad_process(instance: number, frame: number, length: number): number
    _malloc(bytes: number): number
    _free(pointer: number): void
    HEAP16: Int16Array
  }
  const createModule: () => Promise<FvadModule>
  export default createModule
}
