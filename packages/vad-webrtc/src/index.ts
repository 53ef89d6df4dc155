export {
  createVad,
  DEFAULT_WEBRTC_VAD_OPTIONS,
  WEBRTC_SEGMENTER_DEFAULTS,
  WebRtcVad,
  type WebRtcVadOptions,
} from './webrtc-vad.js'
