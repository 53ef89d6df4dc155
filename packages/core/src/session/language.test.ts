import { describe, expect, it } from 'vitest'
import { isWsError } from '../errors.js'
import { checkSessionOption } from '../protocol/session-options.js'
import { STRATEGY_NAMES } from '../strategies/strategy.js'
import { FakeBackend } from '../testing/fake-backend.js'
import { isWhisperLanguage, WHISPER_LANGUAGES } from '../text/languages.js'
import { StreamingSession } from './streaming-session.js'
import { collect, finals, SR } from './test-support.js'

// `language` left out on a multilingual model: detected, then kept once a final is long enough.
const said = (seconds: number) => new Float32Array(seconds * SR).fill(0.1)

describe('a session without a language', () => {
  it.each(STRATEGY_NAMES)(
    '%s: keeps the language of the first final of 2 s or more, for utterances and revisions',
    async (strategy) => {
      const backend = new FakeBackend({
        detects: 'es',
        multilingual: true,
        respond: () => [{ start: 0, end: 1, text: 'hola' }],
      })
      await backend.loadModel('fake')
      const session = new StreamingSession({ backend, strategy, partialIntervalMs: 0, reviseMaxMs: 5000 })
      const events = collect(session)
      session.pushAudio(said(1)) // too short to tell
      session.endUtterance()
      session.pushAudio(said(3))
      session.endUtterance()
      await expect.poll(() => session.language).toBe('es')
      const before = backend.calls.length
      session.pushAudio(said(2))
      await session.end()
      const f = finals(await events)
      expect(f.map((e) => e.language)).toEqual(['es', 'es', 'es'])
      // Before: detected on every call; after: asked for.
      expect(backend.calls.slice(0, 2).every((c) => c.options.language === undefined)).toBe(true)
      const after = backend.calls.slice(before)
      expect(after.length).toBeGreaterThan(0)
      expect(after.every((c) => c.options.language === 'es')).toBe(true)
    },
  )

  it('detects on every call with detectLanguageMs 0, and keeps an asked language', async () => {
    const backend = new FakeBackend({ detects: 'nl', multilingual: true, respond: () => [] })
    await backend.loadModel('fake')
    const free = new StreamingSession({ backend, strategy: 'prompt', detectLanguageMs: 0 })
    free.pushAudio(said(3))
    free.endUtterance()
    free.pushAudio(said(3))
    await free.end()
    expect(free.language).toBeUndefined()
    expect(backend.calls.every((c) => c.options.language === undefined)).toBe(true)
    const asked = new StreamingSession({ backend, strategy: 'prompt', language: 'de' })
    expect(asked.language).toBe('de')
    await asked.close()
  })
})

describe('an English-only model', () => {
  it('refuses another language or a translation with a typed error', async () => {
    const backend = new FakeBackend({ multilingual: false })
    await backend.loadModel('fake')
    for (const options of [{ language: 'es' }, { task: 'translate' as const }]) {
      const err = (() => {
        try {
          return new StreamingSession({ backend, ...options })
        } catch (e) {
          return e
        }
      })()
      expect(isWsError(err, 'invalid_config'), String(err)).toBe(true)
      expect(String((err as Error).message)).toMatch(/English-only/)
    }
    // English, or nothing said, is fine.
    await new StreamingSession({ backend, language: 'en' }).close()
    await new StreamingSession({ backend }).close()
  })
})

describe('a language Whisper does not know', () => {
  it('is a typed error from the session, the wire option and every backend; a region is dropped', async () => {
    const backend = new FakeBackend()
    await backend.loadModel('fake')
    const err = (() => {
      try {
        return new StreamingSession({ backend, language: 'xx' })
      } catch (e) {
        return e
      }
    })()
    expect(isWsError(err, 'invalid_config'), String(err)).toBe(true)
    expect(String((err as Error).message)).toMatch(/"xx" is not a language Whisper knows/)
    expect(() => checkSessionOption('language', 'qq')).toThrow(/"qq" is not a language Whisper knows/)
    expect(checkSessionOption('language', 'es-MX')).toBe('es')
    expect(checkSessionOption('language', 'haw')).toBe('haw')
    expect(checkSessionOption('language', 'auto')).toBe('auto')
    expect(WHISPER_LANGUAGES).toHaveLength(100)
    expect(WHISPER_LANGUAGES.every(isWhisperLanguage)).toBe(true)
  })
})
