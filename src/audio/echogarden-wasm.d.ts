// The two Emscripten builds ship no types: what denoiser.ts uses of them.
interface EmscriptenHeap {
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

declare module "@echogarden/rnnoise-wasm" {
  export interface RnnoiseModule extends EmscriptenHeap {
    _rnnoise_get_frame_size(): number;
    _rnnoise_create(model: number): number;
    /** Denoises one frame in place of `out`; returns the voice probability of the frame. */
    _rnnoise_process_frame(state: number, out: number, input: number): number;
    _rnnoise_destroy(state: number): void;
  }
  const load: () => Promise<RnnoiseModule>;
  export default load;
}

declare module "@echogarden/speex-resampler-wasm" {
  export interface SpeexModule extends EmscriptenHeap {
    _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, err: number): number;
    _speex_resampler_process_float(state: number, channel: number, input: number, inLength: number, output: number, outLength: number): number;
    _speex_resampler_get_input_latency(state: number): number;
    _speex_resampler_destroy(state: number): void;
  }
  const load: () => Promise<SpeexModule>;
  export default load;
}
