#include "context.h"

#include <string>

#include "transcribe.h"

namespace wsaddon {
namespace {

Napi::FunctionReference *g_constructor = nullptr;

whisper_alignment_heads_preset PresetByName(const std::string &name) {
  static const struct {
    const char *name;
    whisper_alignment_heads_preset preset;
  } presets[] = {
      {"tiny.en", WHISPER_AHEADS_TINY_EN},     {"tiny", WHISPER_AHEADS_TINY},
      {"base.en", WHISPER_AHEADS_BASE_EN},     {"base", WHISPER_AHEADS_BASE},
      {"small.en", WHISPER_AHEADS_SMALL_EN},   {"small", WHISPER_AHEADS_SMALL},
      {"medium.en", WHISPER_AHEADS_MEDIUM_EN}, {"medium", WHISPER_AHEADS_MEDIUM},
      {"large-v1", WHISPER_AHEADS_LARGE_V1},   {"large-v2", WHISPER_AHEADS_LARGE_V2},
      {"large-v3", WHISPER_AHEADS_LARGE_V3},   {"large-v3-turbo", WHISPER_AHEADS_LARGE_V3_TURBO},
      {"top", WHISPER_AHEADS_N_TOP_MOST},
  };
  for (const auto &p : presets)
    if (name == p.name) return p.preset;
  return WHISPER_AHEADS_NONE;
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, whisper_context_params params)
      : Napi::AsyncWorker(env), path_(std::move(path)), params_(params),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    ctx_ = whisper_init_from_file_with_params_no_state(path_.c_str(), params_);
    if (ctx_ == nullptr) SetError("whisper.cpp could not load the model file " + path_);
  }
  void OnOK() override {
    Napi::Object obj = g_constructor->New({});
    Context::Unwrap(obj)->Adopt(ctx_);
    deferred_.Resolve(obj);
  }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  std::string path_;
  whisper_context_params params_;
  whisper_context *ctx_ = nullptr;
  Napi::Promise::Deferred deferred_;
};

}  // namespace

class FreeWorker : public Napi::AsyncWorker {
 public:
  FreeWorker(Napi::Env env, Context *owner, Napi::Object self)
      : Napi::AsyncWorker(env), owner_(owner), deferred_(Napi::Promise::Deferred::New(env)) {
    self_ = Napi::Persistent(self);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { owner_->FreeNow(); }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  Context *owner_;
  Napi::ObjectReference self_;
  Napi::Promise::Deferred deferred_;
};

Napi::Function Context::Init(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "WhisperContext",
                                  {
                                      StaticMethod("load", &Context::Load),
                                      InstanceMethod("transcribe", &Context::Transcribe),
                                      InstanceMethod("free", &Context::Free),
                                      InstanceMethod("info", &Context::Info),
                                  });
  g_constructor = new Napi::FunctionReference(Napi::Persistent(fn));
  return fn;
}

Context::Context(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Context>(info) {}

Context::~Context() { FreeNow(); }

// load(path: string, { gpu?, flashAttn?, dtw?: preset name, dtwTopLayers? })
Napi::Value Context::Load(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "load(path, options): path must be a string");
  whisper_context_params params = whisper_context_default_params();
  params.use_gpu = false;
  params.flash_attn = false;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    if (o.Has("gpu")) params.use_gpu = o.Get("gpu").ToBoolean();
    if (o.Has("flashAttn")) params.flash_attn = o.Get("flashAttn").ToBoolean();
    if (o.Get("dtw").IsString()) {
      std::string name = o.Get("dtw").As<Napi::String>();
      whisper_alignment_heads_preset preset = PresetByName(name);
      if (preset == WHISPER_AHEADS_NONE)
        throw Napi::TypeError::New(env, "Unknown alignment-heads preset: " + name);
      params.dtw_token_timestamps = true;
      params.dtw_aheads_preset = preset;
      if (o.Get("dtwTopLayers").IsNumber())
        params.dtw_n_top = o.Get("dtwTopLayers").As<Napi::Number>().Int32Value();
    }
  }
  auto *worker = new LoadWorker(env, info[0].As<Napi::String>(), params);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

whisper_context *Context::Acquire(whisper_state **state, std::string *error) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (closing_ || ctx_ == nullptr) {
    *error = "The model was freed";
    return nullptr;
  }
  active_++;
  if (!pool_.empty()) {
    *state = pool_.back();
    pool_.pop_back();
    return ctx_;
  }
  lock.unlock();
  *state = whisper_init_state(ctx_);
  if (*state == nullptr) {
    *error = "whisper.cpp could not allocate a decoding state";
    Release(nullptr);
    return nullptr;
  }
  return ctx_;
}

void Context::Release(whisper_state *state) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state != nullptr) pool_.push_back(state);
  active_--;
  idle_.notify_all();
}

void Context::FreeNow() {
  std::unique_lock<std::mutex> lock(mutex_);
  closing_ = true;
  idle_.wait(lock, [this] { return active_ == 0; });
  for (whisper_state *s : pool_) whisper_free_state(s);
  pool_.clear();
  if (ctx_ != nullptr) whisper_free(ctx_);
  ctx_ = nullptr;
}

// free() → Promise<void>: waits for running transcriptions, then frees states and weights.
Napi::Value Context::Free(const Napi::CallbackInfo &info) {
  auto *worker = new FreeWorker(info.Env(), this, info.This().As<Napi::Object>());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Context::Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  std::lock_guard<std::mutex> lock(mutex_);
  if (ctx_ == nullptr) return env.Null();
  o.Set("type", whisper_model_type_readable(ctx_));
  o.Set("multilingual", whisper_is_multilingual(ctx_) != 0);
  o.Set("vocab", whisper_model_n_vocab(ctx_));
  o.Set("audioLayers", whisper_model_n_audio_layer(ctx_));
  o.Set("textLayers", whisper_model_n_text_layer(ctx_));
  o.Set("mels", whisper_model_n_mels(ctx_));
  o.Set("states", static_cast<double>(pool_.size()) + active_);
  return o;
}

Napi::Value Context::Transcribe(const Napi::CallbackInfo &info) {
  return StartTranscription(info, this);
}

}  // namespace wsaddon
