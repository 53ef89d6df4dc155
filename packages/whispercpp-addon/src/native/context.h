#pragma once
#include <napi.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "whisper.h"

namespace wsaddon {

// One loaded model. Transcriptions run on libuv's worker threads, each with a whisper_state
// of its own taken from a pool, so several can run at once on one copy of the weights.
class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Context(const Napi::CallbackInfo &info);
  ~Context() override;

  // Called on worker threads.
  whisper_context *Acquire(whisper_state **state, std::string *error);
  void Release(whisper_state *state);

  // load(path, options) → Promise<Context>, on a worker thread.
  static Napi::Value Load(const Napi::CallbackInfo &info);
  void Adopt(whisper_context *ctx) { ctx_ = ctx; }
  whisper_context *Raw() const { return ctx_; }

 private:
  Napi::Value Transcribe(const Napi::CallbackInfo &info);
  Napi::Value Free(const Napi::CallbackInfo &info);
  Napi::Value Info(const Napi::CallbackInfo &info);
  void FreeNow();

  whisper_context *ctx_ = nullptr;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::vector<whisper_state *> pool_;
  int active_ = 0;
  bool closing_ = false;

  friend class FreeWorker;
};

}  // namespace wsaddon
