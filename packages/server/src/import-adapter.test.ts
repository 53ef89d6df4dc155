import { isWsError } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { importAdapter } from './import-adapter.js'

describe('importAdapter', () => {
  it('names the package to install when a chosen adapter is missing', async () => {
    const err = await importAdapter(
      () => import(/* @vite-ignore */ ['@ws', 'backend-missing'].join('/')),
      '@ws/backend-missing',
      'backend missing',
    ).catch((e) => e)
    expect(isWsError(err, 'invalid_config')).toBe(true)
    expect(err.message).toBe(
      'backend missing needs @ws/backend-missing, which is not installed: npm install @ws/backend-missing',
    )
  })

  it('passes other failures through, and an installed adapter', async () => {
    const boom = new Error('boom')
    await expect(importAdapter(() => Promise.reject(boom), '@ws/vad-webrtc', 'vad webrtc')).rejects.toBe(boom)
    const webrtc = await importAdapter(() => import('@ws/vad-webrtc'), '@ws/vad-webrtc', 'vad webrtc')
    expect(typeof webrtc.createVad).toBe('function')
  })
})
