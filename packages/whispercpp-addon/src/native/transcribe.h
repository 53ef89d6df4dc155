#pragma once
#include <napi.h>

namespace wsaddon {
class Context;
// context.transcribe(audio: Float32Array, options, abortFlag?: Int32Array) → Promise
Napi::Value StartTranscription(const Napi::CallbackInfo &info, Context *owner);
}  // namespace wsaddon
