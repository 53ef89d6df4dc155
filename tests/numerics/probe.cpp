// Runs whisper.cpp's encoder and decoder on a given log-mel spectrogram and writes what they
// compute, for comparison with CTranslate2 (tests/ggml-numerics.test.ts).
//
//   probe <model.bin> <in.mel> <encoder.f32> <token,token,...> <logits.f32>
//
// in.mel: int32 frames, int32 (unused), then float32 [80][frames]. encoder.f32: the encoder
// output, positions × state. logits.f32: for each token fed to the decoder one at a time,
// the logits of the next token (tokens × vocabulary).
//
// It is compiled from the whisper.cpp source the addon is built from, to read the encoder
// output, which whisper.cpp's public API does not expose, and linked against the addon's ggml
// libraries; WS_GGML_BACKEND_DIR names the directory of ggml's CPU variants.
#include "whisper.cpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char ** argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: probe <model.bin> <in.mel> <encoder.f32> <tokens> <logits.f32>\n");
        return 2;
    }
    whisper_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    if (const char * dir = getenv("WS_GGML_BACKEND_DIR")) ggml_backend_load_all_from_path(dir);
    whisper_context_params cparams = whisper_context_default_params();
    cparams.use_gpu = false;
    cparams.flash_attn = false; // as the addon runs it (DTW needs the attention weights)
    whisper_context * ctx = whisper_init_from_file_with_params(argv[1], cparams);
    if (!ctx) return 3;

    FILE * in = fopen(argv[2], "rb");
    if (!in) return 4;
    int header[2];
    if (fread(header, sizeof(int), 2, in) != 2) return 4;
    std::vector<float> mel((size_t) 80 * header[0]);
    if (fread(mel.data(), sizeof(float), mel.size(), in) != mel.size()) return 4;
    fclose(in);

    const int threads = 2;
    if (whisper_set_mel(ctx, mel.data(), header[0], 80) != 0) return 5;
    if (whisper_encode(ctx, 0, threads) != 0) return 5;
    ggml_tensor * enc = ctx->state->embd_enc;
    std::vector<float> encoded(ggml_nelements(enc));
    ggml_backend_tensor_get(enc, encoded.data(), 0, ggml_nbytes(enc));
    FILE * out = fopen(argv[3], "wb");
    fwrite(encoded.data(), sizeof(float), encoded.size(), out);
    fclose(out);

    std::vector<whisper_token> tokens;
    for (char * t = strtok(argv[4], ","); t; t = strtok(nullptr, ",")) tokens.push_back(atoi(t));
    FILE * logits = fopen(argv[5], "wb");
    for (size_t i = 0; i < tokens.size(); i++) {
        if (whisper_decode(ctx, &tokens[i], 1, (int) i, threads) != 0) return 6;
        fwrite(whisper_get_logits(ctx), sizeof(float), whisper_n_vocab(ctx), logits);
    }
    fclose(logits);
    whisper_free(ctx);
    return 0;
}
