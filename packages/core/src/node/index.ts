/**
 * `@ws/core/node`: helpers that need Node's built-in modules (the main entry uses none).
 */
export { decodeAudio } from './decode-audio.js'
