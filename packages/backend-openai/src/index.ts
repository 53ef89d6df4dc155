export {
  DEFAULT_OPENAI_BACKEND_OPTIONS,
  languageCode,
  OpenAiBackend,
  type OpenAiBackendOptions,
} from './backend.js'
export {
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
  retryAfterMs,
  retryableStatus,
  retryDelayMs,
} from './retry.js'
