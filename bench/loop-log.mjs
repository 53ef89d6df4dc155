// A logger for WhisperCppBackend that catches the looping text of each re-decode (the
// backend logs it at debug before decoding again with a wider window).
export function loopCatcher() {
  const noop = () => {}
  const catcher = {
    /** The looping text of the latest call, if it looped; reset it before each call. */
    looped: undefined,
    logger: {
      debug: (details, message) => {
        if (message?.startsWith('repetition')) catcher.looped ??= details.text
      },
      info: noop,
      warn: noop,
      error: noop,
    },
  }
  return catcher
}
