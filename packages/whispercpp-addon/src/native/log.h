#pragma once
#include <napi.h>

namespace wsaddon {
// Points whisper.cpp's and ggml's log at this module (dropped until a logger is set).
void InstallLogHook();
// setLogger(fn | null, minLevel?)
Napi::Value SetLogger(const Napi::CallbackInfo &info);
// Stops delivering lines (at environment teardown).
void ReleaseLogger();
}  // namespace wsaddon
