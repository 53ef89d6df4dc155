// transcribe(audio, params, abortFlag?) → Promise<result>: one whisper_full call on a libuv
// worker thread with a pooled state. Setting abortFlag[0] to non-zero stops it at the next
// graph node (ggml's abort callback) or before the next encoder run.
#include "transcribe.h"

#include <atomic>
#include <string>
#include <vector>

#include "context.h"

namespace wsaddon {
namespace {

struct Token {
  int id;
  std::string text;
  float p, plog;
  int64_t t0, t1, tDtw;
};

struct Segment {
  int64_t t0, t1;
  std::string text;
  float noSpeechProb;
  float avgLogprob;  // mean log-probability of the segment's text tokens (0 when none)
  std::vector<Token> tokens;
};

struct Options {
  int threads = 1;
  int beamSize = 1;
  int bestOf = 1;
  int audioCtx = 0;
  int maxTokens = 0;
  float temperature = 0.0f;
  float temperatureInc = 0.2f;
  float entropyThold = 2.4f;
  float logprobThold = -1.0f;
  float noSpeechThold = 0.6f;
  bool translate = false;
  bool tokenTimestamps = false;
  bool singleSegment = false;
  bool noTimestamps = false;
  bool suppressBlank = true;
  bool suppressNst = false;
  bool tokens = false;
  std::string language = "en";
  std::string prompt;
};

int Int(const Napi::Object &o, const char *key, int fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}
float Float(const Napi::Object &o, const char *key, float fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().FloatValue() : fallback;
}
bool Bool(const Napi::Object &o, const char *key, bool fallback) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}
std::string Str(const Napi::Object &o, const char *key, const std::string &fallback) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}

Options ReadOptions(const Napi::Object &o) {
  Options r;
  r.threads = Int(o, "threads", r.threads);
  r.beamSize = Int(o, "beamSize", r.beamSize);
  r.bestOf = Int(o, "bestOf", r.bestOf);
  r.audioCtx = Int(o, "audioCtx", r.audioCtx);
  r.maxTokens = Int(o, "maxTokens", r.maxTokens);
  r.temperature = Float(o, "temperature", r.temperature);
  r.temperatureInc = Float(o, "temperatureInc", r.temperatureInc);
  r.entropyThold = Float(o, "entropyThreshold", r.entropyThold);
  r.logprobThold = Float(o, "logprobThreshold", r.logprobThold);
  r.noSpeechThold = Float(o, "noSpeechThreshold", r.noSpeechThold);
  r.translate = Bool(o, "translate", r.translate);
  r.tokenTimestamps = Bool(o, "tokenTimestamps", r.tokenTimestamps);
  r.singleSegment = Bool(o, "singleSegment", r.singleSegment);
  r.noTimestamps = Bool(o, "noTimestamps", r.noTimestamps);
  r.suppressBlank = Bool(o, "suppressBlank", r.suppressBlank);
  r.suppressNst = Bool(o, "suppressNonSpeech", r.suppressNst);
  r.tokens = Bool(o, "tokens", r.tokens);
  r.language = Str(o, "language", r.language);
  r.prompt = Str(o, "initialPrompt", r.prompt);
  return r;
}

class TranscribeWorker : public Napi::AsyncWorker {
 public:
  TranscribeWorker(Napi::Env env, Context *owner, Napi::Object self, std::vector<float> pcm,
                   Options options, int32_t *abortFlag, Napi::Value abortHolder)
      : Napi::AsyncWorker(env), owner_(owner), pcm_(std::move(pcm)), o_(std::move(options)),
        abortFlag_(abortFlag), deferred_(Napi::Promise::Deferred::New(env)) {
    self_ = Napi::Persistent(self);
    if (abortHolder.IsObject()) abortHolder_ = Napi::Persistent(abortHolder.As<Napi::Object>());
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string error;
    whisper_state *state = nullptr;
    whisper_context *ctx = owner_->Acquire(&state, &error);
    if (ctx == nullptr) return SetError(error);
    Run(ctx, state);
    owner_->Release(state);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (aborted_) {
      Napi::Error e = Napi::Error::New(env, "The transcription was aborted");
      e.Set("code", "ABORTED");
      deferred_.Reject(e.Value());
      return;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("language", language_);
    Napi::Array segs = Napi::Array::New(env, segments_.size());
    for (size_t i = 0; i < segments_.size(); i++) {
      const Segment &s = segments_[i];
      Napi::Object so = Napi::Object::New(env);
      so.Set("t0", static_cast<double>(s.t0));
      so.Set("t1", static_cast<double>(s.t1));
      so.Set("text", s.text);
      so.Set("noSpeechProb", s.noSpeechProb);
      so.Set("avgLogprob", s.avgLogprob);
      if (o_.tokens) {
        Napi::Array toks = Napi::Array::New(env, s.tokens.size());
        for (size_t j = 0; j < s.tokens.size(); j++) {
          const Token &t = s.tokens[j];
          Napi::Object to = Napi::Object::New(env);
          to.Set("id", t.id);
          to.Set("text", t.text);
          to.Set("p", t.p);
          to.Set("logp", t.plog);
          to.Set("t0", static_cast<double>(t.t0));
          to.Set("t1", static_cast<double>(t.t1));
          to.Set("tDtw", static_cast<double>(t.tDtw));
          toks[j] = to;
        }
        so.Set("tokens", toks);
      }
      segs[i] = so;
    }
    out.Set("segments", segs);
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error &e) override {
    e.Set("code", "FAILED");
    deferred_.Reject(e.Value());
  }

 private:
  bool Aborted() const {
    return abortFlag_ != nullptr && __atomic_load_n(abortFlag_, __ATOMIC_RELAXED) != 0;
  }
  static bool AbortCallback(void *self) { return static_cast<TranscribeWorker *>(self)->Aborted(); }
  static bool EncoderBegin(whisper_context *, whisper_state *, void *self) {
    return !static_cast<TranscribeWorker *>(self)->Aborted();
  }

  void Run(whisper_context *ctx, whisper_state *state) {
    whisper_full_params p = whisper_full_default_params(
        o_.beamSize > 1 ? WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY);
    p.n_threads = o_.threads;
    p.beam_search.beam_size = o_.beamSize;
    p.greedy.best_of = o_.bestOf;
    p.audio_ctx = o_.audioCtx;
    p.max_tokens = o_.maxTokens;
    p.temperature = o_.temperature;
    p.temperature_inc = o_.temperatureInc;
    p.entropy_thold = o_.entropyThold;
    p.logprob_thold = o_.logprobThold;
    p.no_speech_thold = o_.noSpeechThold;
    p.translate = o_.translate;
    p.token_timestamps = o_.tokenTimestamps;
    p.ws_dtw = o_.tokens;  // DTW times are returned with the tokens only
    p.single_segment = o_.singleSegment;
    p.no_timestamps = o_.noTimestamps;
    p.suppress_blank = o_.suppressBlank;
    p.suppress_nst = o_.suppressNst;
    p.no_context = true;
    p.print_progress = false;
    p.print_realtime = false;
    p.print_special = false;
    p.print_timestamps = false;
    p.language = o_.language.c_str();
    p.detect_language = false;
    p.initial_prompt = o_.prompt.empty() ? nullptr : o_.prompt.c_str();
    p.abort_callback = AbortCallback;
    p.abort_callback_user_data = this;
    p.encoder_begin_callback = EncoderBegin;
    p.encoder_begin_callback_user_data = this;

    int rc = whisper_full_with_state(ctx, state, p, pcm_.data(), static_cast<int>(pcm_.size()));
    if (Aborted()) {
      aborted_ = true;
      return;
    }
    if (rc != 0) return SetError("whisper.cpp failed (whisper_full returned " + std::to_string(rc) + ")");
    int lang = whisper_full_lang_id_from_state(state);
    language_ = lang >= 0 ? whisper_lang_str(lang) : o_.language;
    int n = whisper_full_n_segments_from_state(state);
    segments_.reserve(n);
    for (int i = 0; i < n; i++) {
      Segment s;
      s.t0 = whisper_full_get_segment_t0_from_state(state, i);
      s.t1 = whisper_full_get_segment_t1_from_state(state, i);
      s.text = whisper_full_get_segment_text_from_state(state, i);
      s.noSpeechProb = whisper_full_get_segment_no_speech_prob_from_state(state, i);
      // The segment's own certainty, for the no-speech rule (Whisper's average
      // log-probability, over the text tokens: timestamps and other special tokens left out).
      const whisper_token eot = whisper_token_eot(ctx);
      double logprobs = 0;
      int texts = 0;
      int nt = whisper_full_n_tokens_from_state(state, i);
      for (int j = 0; j < nt; j++) {
        whisper_token_data d = whisper_full_get_token_data_from_state(state, i, j);
        if (d.id < eot) {
          logprobs += d.plog;
          texts++;
        }
        if (o_.tokens)
          s.tokens.push_back({d.id, whisper_full_get_token_text_from_state(ctx, state, i, j), d.p,
                              d.plog, d.t0, d.t1, d.t_dtw});
      }
      s.avgLogprob = texts > 0 ? static_cast<float>(logprobs / texts) : 0.0f;
      segments_.push_back(std::move(s));
    }
  }

  Context *owner_;
  Napi::ObjectReference self_;
  Napi::ObjectReference abortHolder_;
  std::vector<float> pcm_;
  Options o_;
  int32_t *abortFlag_;
  Napi::Promise::Deferred deferred_;
  std::vector<Segment> segments_;
  std::string language_;
  bool aborted_ = false;
};

}  // namespace

Napi::Value StartTranscription(const Napi::CallbackInfo &info, Context *owner) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "transcribe(audio, options, abortFlag?): audio must be a Float32Array");
  }
  Napi::Float32Array audio = info[0].As<Napi::Float32Array>();
  std::vector<float> pcm(audio.Data(), audio.Data() + audio.ElementLength());
  Options options = info.Length() > 1 && info[1].IsObject() ? ReadOptions(info[1].As<Napi::Object>())
                                                             : Options{};
  int32_t *flag = nullptr;
  Napi::Value holder = env.Undefined();
  if (info.Length() > 2 && info[2].IsTypedArray()) {
    Napi::TypedArray t = info[2].As<Napi::TypedArray>();
    if (t.TypedArrayType() != napi_int32_array || t.ElementLength() < 1)
      throw Napi::TypeError::New(env, "abortFlag must be an Int32Array of length 1 or more");
    flag = t.As<Napi::Int32Array>().Data();
    holder = t.ArrayBuffer();
  }
  auto *worker = new TranscribeWorker(env, owner, info.This().As<Napi::Object>(), std::move(pcm),
                                      std::move(options), flag, holder);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace wsaddon
