// Node-API entry: loads ggml's backends (the CPU variant that suits this processor) from the
// addon's directory, routes the library's log, and exports the model class.
#include <napi.h>

#include <string>

#include "context.h"
#include "ggml-backend.h"
#include "log.h"
#include "whisper.h"

namespace wsaddon {
namespace {

bool g_loaded = false;

// loadBackends(dir[, cpuVariant]) → { devices: [{ name, description }], features: { NAME: value } }
// Without cpuVariant, ggml loads every backend in dir and keeps the CPU variant that scores
// best on this processor; with it (`haswell`, `zen4`, …), only that CPU variant, which fails
// (no CPU device) where the processor lacks its instructions.
Napi::Value LoadBackends(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!g_loaded) {
    if (info.Length() < 1 || !info[0].IsString())
      throw Napi::TypeError::New(env, "loadBackends(dir): dir must be a string");
    std::string dir = info[0].As<Napi::String>();
    if (info.Length() >= 2 && info[1].IsString()) {
      std::string variant = info[1].As<Napi::String>();
#ifdef _WIN32
      std::string file = dir + "/ggml-cpu-" + variant + ".dll";
#elif defined(__APPLE__)
      std::string file = dir + "/libggml-cpu-" + variant + ".dylib";
#else
      std::string file = dir + "/libggml-cpu-" + variant + ".so";
#endif
      ggml_backend_load(file.c_str());
    } else {
      ggml_backend_load_all_from_path(dir.c_str());
    }
    g_loaded = true;
  }
  Napi::Object out = Napi::Object::New(env);
  size_t n = ggml_backend_dev_count();
  Napi::Array devices = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", ggml_backend_dev_name(dev));
    d.Set("description", ggml_backend_dev_description(dev));
    devices[i] = d;
  }
  out.Set("devices", devices);
  Napi::Object features = Napi::Object::New(env);
  ggml_backend_reg_t cpu = ggml_backend_reg_by_name("CPU");
  if (cpu != nullptr) {
    auto get = reinterpret_cast<ggml_backend_get_features_t>(
        ggml_backend_reg_get_proc_address(cpu, "ggml_backend_get_features"));
    if (get != nullptr)
      for (ggml_backend_feature *f = get(cpu); f->name != nullptr; f++) features.Set(f->name, f->value);
  }
  out.Set("features", features);
  return out;
}

Napi::Value SystemInfo(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), whisper_print_system_info());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLogHook();
  napi_add_env_cleanup_hook(env, [](void *) { ReleaseLogger(); }, nullptr);
  exports.Set("loadBackends", Napi::Function::New(env, LoadBackends));
  exports.Set("setLogger", Napi::Function::New(env, SetLogger));
  exports.Set("systemInfo", Napi::Function::New(env, SystemInfo));
  exports.Set("version", Napi::String::New(env, whisper_version()));
  exports.Set("WhisperContext", Context::Init(env));
  return exports;
}

}  // namespace
}  // namespace wsaddon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return wsaddon::Init(env, exports); }

NODE_API_MODULE(whisper_addon, InitModule)
