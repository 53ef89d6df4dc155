// whisper.cpp and ggml log lines, routed to a JavaScript callback instead of stderr.
// Lines come from any thread; they reach JavaScript through a thread-safe function. With no
// callback set they are dropped, so the library is silent by default.
#include "log.h"

#include <mutex>
#include <string>

#include "whisper.h"

namespace wsaddon {
namespace {

struct LogLine {
  int level;
  std::string text;
};

std::mutex g_mutex;
Napi::ThreadSafeFunction g_tsfn;
bool g_active = false;
int g_min_level = GGML_LOG_LEVEL_DEBUG;

thread_local std::string t_pending;
thread_local int t_level = GGML_LOG_LEVEL_INFO;

void CallJs(Napi::Env env, Napi::Function fn, LogLine *line) {
  if (env != nullptr && fn != nullptr) {
    fn.Call({Napi::Number::New(env, line->level), Napi::String::New(env, line->text)});
  }
  delete line;
}

void Emit(int level, std::string text) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_active || level < g_min_level) return;
  auto *line = new LogLine{level, std::move(text)};
  if (g_tsfn.NonBlockingCall(line, CallJs) != napi_ok) delete line;
}

// ggml sends pieces of a line (level CONT continues the previous one); join them per thread.
void OnLog(ggml_log_level level, const char *text, void * /*user_data*/) {
  if (level != GGML_LOG_LEVEL_CONT) {
    if (!t_pending.empty()) Emit(t_level, std::move(t_pending));
    t_pending.clear();
    t_level = level;
  }
  t_pending += text;
  size_t nl;
  while ((nl = t_pending.find('\n')) != std::string::npos) {
    std::string line = t_pending.substr(0, nl);
    t_pending.erase(0, nl + 1);
    if (!line.empty()) Emit(t_level, std::move(line));
  }
}

void Release() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_active) {
    g_tsfn.Release();
    g_active = false;
  }
}

}  // namespace

void InstallLogHook() { whisper_log_set(OnLog, nullptr); }

// setLogger(fn | null, minLevel): fn(level, line) gets each line at or above minLevel.
Napi::Value SetLogger(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Release();
  if (info.Length() < 1 || !info[0].IsFunction()) return env.Undefined();
  std::lock_guard<std::mutex> lock(g_mutex);
  g_min_level = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value()
                                                         : GGML_LOG_LEVEL_DEBUG;
  g_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "whisper-log", 0, 1);
  g_tsfn.Unref(env);
  g_active = true;
  return env.Undefined();
}

void ReleaseLogger() { Release(); }

}  // namespace wsaddon
