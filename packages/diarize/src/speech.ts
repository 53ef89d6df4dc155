// Speech regions moved to @ws/core (the server fits REST words to them); kept here for imports.
export { SPEECH_REGION_DEFAULTS, type SpeechRegionOptions, speechRegions, type TimeRange } from '@ws/core'
