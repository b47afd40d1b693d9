/*
 * Kernels the onednn backend runs beside oneDNN's primitives, on the same OpenMP team (this
 * library links the libgomp.so.1 that oneDNN already loaded), where oneDNN's own is slower.
 *
 * swish(x) = x * sigmoid(x), in place. oneDNN 3.13 applies it as a post-op at 0.52 ns per value
 * per thread (its exp, then a division); EfficientNet spends a fifth of its time there. Here exp
 * is a Cody-Waite reduction and a degree-5 polynomial scaled by vscalefps, and 1 / (1 + e) a
 * 14-bit reciprocal estimate with one Newton step: about 1e-7 relative error, about 0.33 ns per
 * value. A convolution followed by this pass beats the convolution with the post-op by 4-16%
 * (measured on 1x1 convolutions of EfficientNet-B0's shapes).
 *
 * swish with channel means: the same over a channels-last [pixels, channels] image, adding up each
 * channel's results on the way, for the squeeze-excitation that reads it: its mean over the plane
 * then needs no second pass over the image (oneDNN's pooling read it again).
 *
 * Winograd F(2x2, 3x3)'s input and output transforms (below), around oneDNN's batched matmul:
 * oneDNN 3.13 has no Winograd convolution for this CPU, and its direct one does 2.25 times the
 * multiplications.
 *
 * A squeeze-excitation's excitation, its two one-pixel convolutions and their activations, in one
 * call where oneDNN took two primitives.
 */
#include <immintrin.h>
#include <math.h>
#include <omp.h>

/* Below this many values the parallel region's start costs more than the second thread saves. */
#define PARALLEL_FROM 16384

/*
 * Whether to open a parallel region: not for one thread in force (an engine of one thread runs
 * on its callers, and oneDNN opens none for them either), nor for little work.
 */
static int in_parallel(long values) {
    return values >= PARALLEL_FROM && omp_get_max_threads() > 1;
}

/* A mask of the first n of 16 lanes (all of them from 16 on). */
static inline __mmask16 first_lanes(long n) {
    return n >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << n) - 1);
}

__attribute__((target("avx512f")))
static inline __m512 swish16(__m512 x) {
    const __m512 round = _mm512_set1_ps(12582912.f); /* 1.5 * 2^23: adding it rounds to an integer */
    /* exp(-x) = 2^k * exp(r), k = round(-x / ln 2), |r| <= ln 2 / 2; -x clamped where exp stays finite */
    __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), x), _mm512_set1_ps(-87.3f)),
                             _mm512_set1_ps(88.3f));
    __m512 k = _mm512_sub_ps(_mm512_fmadd_ps(t, _mm512_set1_ps(1.44269504f), round), round);
    __m512 r = _mm512_fmadd_ps(k, _mm512_set1_ps(-0.693359375f), t); /* ln 2 in two parts: exact k * hi */
    r = _mm512_fmadd_ps(k, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(1.9875691500e-4f), _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.f));
    __m512 d = _mm512_add_ps(_mm512_scalef_ps(p, k), _mm512_set1_ps(1.f)); /* 1 + exp(-x) */
    __m512 y = _mm512_rcp14_ps(d);
    y = _mm512_mul_ps(y, _mm512_fnmadd_ps(d, y, _mm512_set1_ps(2.f)));
    /* x floored at -100 so that -inf gives (almost) 0, as the limit does; max(c, NaN) keeps the NaN */
    return _mm512_mul_ps(_mm512_max_ps(_mm512_set1_ps(-100.f), x), y);
}

__attribute__((target("avx512f")))
static void swish_range(float *data, long from, long to) {
    long i = from;
    for (; i + 16 <= to; i += 16) {
        _mm512_storeu_ps(data + i, swish16(_mm512_loadu_ps(data + i)));
    }
    if (i < to) {
        __mmask16 tail = first_lanes(to - i);
        _mm512_mask_storeu_ps(data + i, tail, swish16(_mm512_maskz_loadu_ps(tail, data + i)));
    }
}

/* Partial sums per channel stay float for this many pixels, then go into double totals. */
#define PIXELS_PER_PARTIAL 64

__attribute__((target("avx512f")))
static void swish_rows(float *data, long from, long to, long channels, float *partial) {
    long whole = channels / 16 * 16;
    __mmask16 tail = first_lanes(channels - whole);
    for (long p = from; p < to; p++) {
        float *row = data + p * channels;
        long c = 0;
        for (; c < whole; c += 16) {
            __m512 s = swish16(_mm512_loadu_ps(row + c));
            _mm512_storeu_ps(row + c, s);
            _mm512_storeu_ps(partial + c, _mm512_add_ps(_mm512_loadu_ps(partial + c), s));
        }
        if (tail) {
            __m512 s = swish16(_mm512_maskz_loadu_ps(tail, row + c));
            _mm512_mask_storeu_ps(row + c, tail, s);
            _mm512_mask_storeu_ps(partial + c, tail, _mm512_add_ps(_mm512_maskz_loadu_ps(tail, partial + c), s));
        }
    }
}

/* 1 when this CPU runs the kernels below; the backend keeps oneDNN's own otherwise. */
int kiln_kernels_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

static void swish_part(float *data, long count, long thread, long threads) {
    long vectors = (count + 15) / 16;
    long from = vectors * thread / threads * 16;
    long to = vectors * (thread + 1) / threads * 16;
    swish_range(data, from, to < count ? to : count);
}

/* Swish of count floats at data, in place, on the calling thread's OpenMP team (omp_set_num_threads). */
void kiln_swish(float *data, long count) {
    if (!in_parallel(count)) {
        swish_part(data, count, 0, 1);
        return;
    }
    #pragma omp parallel
    swish_part(data, count, omp_get_thread_num(), omp_get_num_threads());
}

/* This thread's share of the pixels: swished, and its sum per channel added to means / pixels. */
static void swish_channel_means_part(float *data, long pixels, long channels, float *means, long thread,
                                     long threads) {
    long from = pixels * thread / threads;
    long to = pixels * (thread + 1) / threads;
    float partial[channels];
    double total[channels];
    for (long c = 0; c < channels; c++) {
        total[c] = 0;
    }
    for (long p = from; p < to; p += PIXELS_PER_PARTIAL) {
        for (long c = 0; c < channels; c++) {
            partial[c] = 0;
        }
        swish_rows(data, p, p + PIXELS_PER_PARTIAL < to ? p + PIXELS_PER_PARTIAL : to, channels, partial);
        for (long c = 0; c < channels; c++) {
            total[c] += partial[c];
        }
    }
    #pragma omp critical
    for (long c = 0; c < channels; c++) {
        means[c] += (float) (total[c] / pixels);
    }
}

/*
 * Swish of a channels-last image of pixels x channels floats at data, in place, and each channel's
 * mean of the results into means[channels]; channels at most 8192 (the caller checks: the
 * partial sums live on each thread's stack).
 */
void kiln_swish_channel_means(float *data, long pixels, long channels, float *means) {
    for (long c = 0; c < channels; c++) {
        means[c] = 0;
    }
    if (!in_parallel(pixels * channels)) {
        swish_channel_means_part(data, pixels, channels, means, 0, 1);
        return;
    }
    #pragma omp parallel
    swish_channel_means_part(data, pixels, channels, means, omp_get_thread_num(), omp_get_num_threads());
}

/*
 * Winograd F(2x2, 3x3) for 3x3 convolutions of stride 1: each 2x2 block of outputs (a tile) from
 * a 4x4 block of inputs with 16 multiplications per channel pair instead of 36. The input
 * transform V = B^T d B and the output transform Y = A^T M A are here; between them oneDNN's
 * batched matmul multiplies, for each of the 16 positions e, V[e] [tiles x in channels] by the
 * transformed weights U[e] [in channels x out channels] (computed once, when the model compiles).
 * B^T, G and A^T hold only 0, 1, -1 (and 1/2 in G), so the results stay within a few ulps of the
 * direct convolution's. Images are channels-last [batch][height][width][channels]; V and M are
 * [16][tiles][channels], tiles ordered by image, then tile row, then tile column.
 */
typedef struct {
    long batch, height, width, channels; /* the input image */
    long out_height, out_width;          /* the output's plane */
    long pad_top, pad_left;
    long tiles_down, tiles_across;       /* ceil(out / 2) each */
} kiln_winograd_shape;

static long tiles_of(const kiln_winograd_shape *s) {
    return s->batch * s->tiles_down * s->tiles_across;
}

__attribute__((target("avx512f")))
static void winograd_input_tiles(const float *src, float *v, const kiln_winograd_shape *s, long from, long to) {
    long tiles = tiles_of(s);
    long channels = s->channels;
    long per_image = s->tiles_down * s->tiles_across;
    const __m512 zero = _mm512_setzero_ps();
    for (long t = from; t < to; t++) {
        long image = t / per_image;
        long row0 = (t % per_image) / s->tiles_across * 2 - s->pad_top;
        long col0 = (t % per_image) % s->tiles_across * 2 - s->pad_left;
        const float *at[16];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                long r = row0 + i, c = col0 + j;
                at[i * 4 + j] = r >= 0 && r < s->height && c >= 0 && c < s->width
                        ? src + ((image * s->height + r) * s->width + c) * channels : 0;
            }
        }
        for (long c = 0; c < channels; c += 16) {
            __mmask16 m = first_lanes(channels - c);
            __m512 d[16];
            for (int k = 0; k < 16; k++) {
                d[k] = at[k] ? _mm512_maskz_loadu_ps(m, at[k] + c) : zero;
            }
            /* rows: B^T d */
            __m512 x[16];
            for (int j = 0; j < 4; j++) {
                x[0 * 4 + j] = _mm512_sub_ps(d[0 * 4 + j], d[2 * 4 + j]);
                x[1 * 4 + j] = _mm512_add_ps(d[1 * 4 + j], d[2 * 4 + j]);
                x[2 * 4 + j] = _mm512_sub_ps(d[2 * 4 + j], d[1 * 4 + j]);
                x[3 * 4 + j] = _mm512_sub_ps(d[1 * 4 + j], d[3 * 4 + j]);
            }
            /* columns: (B^T d) B */
            for (int i = 0; i < 4; i++) {
                __m512 y0 = _mm512_sub_ps(x[i * 4 + 0], x[i * 4 + 2]);
                __m512 y1 = _mm512_add_ps(x[i * 4 + 1], x[i * 4 + 2]);
                __m512 y2 = _mm512_sub_ps(x[i * 4 + 2], x[i * 4 + 1]);
                __m512 y3 = _mm512_sub_ps(x[i * 4 + 1], x[i * 4 + 3]);
                _mm512_mask_storeu_ps(v + ((i * 4 + 0) * tiles + t) * channels + c, m, y0);
                _mm512_mask_storeu_ps(v + ((i * 4 + 1) * tiles + t) * channels + c, m, y1);
                _mm512_mask_storeu_ps(v + ((i * 4 + 2) * tiles + t) * channels + c, m, y2);
                _mm512_mask_storeu_ps(v + ((i * 4 + 3) * tiles + t) * channels + c, m, y3);
            }
        }
    }
}

__attribute__((target("avx512f")))
static void winograd_output_tiles(const float *mm, float *dst, const float *bias, const float *residual, float low,
                                  float high, const kiln_winograd_shape *s, long out_channels, long from, long to) {
    long tiles = tiles_of(s);
    long per_image = s->tiles_down * s->tiles_across;
    const __m512 lo = _mm512_set1_ps(low), hi = _mm512_set1_ps(high);
    for (long t = from; t < to; t++) {
        long image = t / per_image;
        long row0 = (t % per_image) / s->tiles_across * 2;
        long col0 = (t % per_image) % s->tiles_across * 2;
        int rows = s->out_height - row0 >= 2 ? 2 : 1;
        int cols = s->out_width - col0 >= 2 ? 2 : 1;
        long at = ((image * s->out_height + row0) * s->out_width + col0) * out_channels;
        float *out = dst + at;
        const float *added = residual ? residual + at : 0;
        for (long c = 0; c < out_channels; c += 16) {
            __mmask16 m = first_lanes(out_channels - c);
            __m512 p[16];
            for (int k = 0; k < 16; k++) {
                p[k] = _mm512_maskz_loadu_ps(m, mm + (k * tiles + t) * out_channels + c);
            }
            /* rows: A^T M, two rows of four */
            __m512 x[8];
            for (int j = 0; j < 4; j++) {
                x[0 * 4 + j] = _mm512_add_ps(_mm512_add_ps(p[0 * 4 + j], p[1 * 4 + j]), p[2 * 4 + j]);
                x[1 * 4 + j] = _mm512_sub_ps(_mm512_sub_ps(p[1 * 4 + j], p[2 * 4 + j]), p[3 * 4 + j]);
            }
            __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + c) : _mm512_setzero_ps();
            for (int i = 0; i < rows; i++) {
                __m512 y0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x[i * 4 + 0], x[i * 4 + 1]), x[i * 4 + 2]), b);
                __m512 y1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(x[i * 4 + 1], x[i * 4 + 2]), x[i * 4 + 3]), b);
                long offset = i * s->out_width * out_channels + c;
                if (added) { /* read before the store: dst may be the residual itself */
                    y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(m, added + offset));
                    if (cols == 2) {
                        y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(m, added + offset + out_channels));
                    }
                }
                /* max(lo, y) and min(hi, .) return y itself when it is NaN */
                y0 = _mm512_min_ps(hi, _mm512_max_ps(lo, y0));
                y1 = _mm512_min_ps(hi, _mm512_max_ps(lo, y1));
                float *row = out + offset;
                _mm512_mask_storeu_ps(row, m, y0);
                if (cols == 2) {
                    _mm512_mask_storeu_ps(row + out_channels, m, y1);
                }
            }
        }
    }
}

/* The input transform of a channels-last image into v[16][tiles][channels]. */
void kiln_winograd_input(const float *src, float *v, const kiln_winograd_shape *s) {
    long tiles = tiles_of(s);
    if (!in_parallel(tiles * 16 * s->channels)) {
        winograd_input_tiles(src, v, s, 0, tiles);
        return;
    }
    #pragma omp parallel
    {
        long thread = omp_get_thread_num(), threads = omp_get_num_threads();
        winograd_input_tiles(src, v, s, tiles * thread / threads, tiles * (thread + 1) / threads);
    }
}

/*
 * The output transform of m[16][tiles][out_channels] into a channels-last image, plus the bias
 * and a channels-last residual of the output's shape (NULL for none; it may be dst itself),
 * clamped to [low, high] (relu: 0 and infinity; none: both infinite).
 */
void kiln_winograd_output(const float *m, float *dst, const float *bias, const float *residual, float low,
                          float high, const kiln_winograd_shape *s, long out_channels) {
    long tiles = tiles_of(s);
    if (!in_parallel(tiles * 16 * out_channels)) {
        winograd_output_tiles(m, dst, bias, residual, low, high, s, out_channels, 0, tiles);
        return;
    }
    #pragma omp parallel
    {
        long thread = omp_get_thread_num(), threads = omp_get_num_threads();
        winograd_output_tiles(m, dst, bias, residual, low, high, s, out_channels, tiles * thread / threads,
                              tiles * (thread + 1) / threads);
    }
}

/*
 * A squeeze-excitation's excitation: from each image's channel means, the gate
 * act2(W2 act1(W1 mean + b1) + b2). Two one-pixel convolutions in oneDNN are two primitives of
 * mostly call overhead (a few tens of thousands of multiply-adds each); here they are one call. Activations are coded as in kiln_activation below; w1 is [reduced][channels],
 * w2t [reduced][channels] (the second convolution's weights transposed), biases may be NULL.
 */
enum { ACT_RELU, ACT_CLIP, ACT_SIGMOID, ACT_SILU, ACT_HARD_SIGMOID, ACT_HARD_SWISH, ACT_LEAKY_RELU, ACT_TANH };

static float kiln_activation(float x, int kind, float alpha, float beta) {
    switch (kind) {
        case ACT_RELU: return x > 0 || isnan(x) ? x : 0;
        case ACT_CLIP: return isnan(x) ? x : fminf(fmaxf(x, alpha), beta);
        case ACT_SIGMOID: return 1 / (1 + expf(-x));
        case ACT_SILU: return x / (1 + expf(-x));
        case ACT_HARD_SIGMOID: return isnan(x) ? x : fmaxf(0, fminf(1, alpha * x + beta));
        case ACT_HARD_SWISH: return isnan(x) ? x : x * fmaxf(0, fminf(1, x / 6 + 0.5f));
        case ACT_LEAKY_RELU: return x >= 0 || isnan(x) ? x : alpha * x;
        default: return tanhf(x);
    }
}

/* hidden[r] = act(w1[r] . mean + b1[r]) for rows r of [from, to) */
__attribute__((target("avx512f")))
static void squeeze_rows(const float *mean, const float *w1, const float *b1, float *hidden, long channels,
                         const float *act, long from, long to) {
    long whole = channels / 16 * 16;
    __mmask16 tail = first_lanes(channels - whole);
    for (long r = from; r < to; r++) {
        const float *row = w1 + r * channels;
        __m512 sum = _mm512_setzero_ps();
        for (long c = 0; c < whole; c += 16) {
            sum = _mm512_fmadd_ps(_mm512_loadu_ps(row + c), _mm512_loadu_ps(mean + c), sum);
        }
        if (tail) {
            sum = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, row + whole), _mm512_maskz_loadu_ps(tail, mean + whole),
                                  sum);
        }
        hidden[r] = kiln_activation(_mm512_reduce_add_ps(sum) + (b1 ? b1[r] : 0), (int) act[0], act[1], act[2]);
    }
}

/* gate[c] = act(w2t[.][c] . hidden + b2[c]) for channels c of [from, to), from a multiple of 16 */
__attribute__((target("avx512f")))
static void excite_channels(const float *hidden, const float *w2t, const float *b2, float *gate, long channels,
                            long reduced, const float *act, long from, long to) {
    for (long c = from; c < to; c += 16) {
        __mmask16 m = first_lanes(to - c);
        __m512 sum = b2 ? _mm512_maskz_loadu_ps(m, b2 + c) : _mm512_setzero_ps();
        for (long r = 0; r < reduced; r++) {
            sum = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2t + r * channels + c), _mm512_set1_ps(hidden[r]), sum);
        }
        float out[16];
        _mm512_storeu_ps(out, sum);
        for (long k = 0; k < 16 && c + k < to; k++) {
            gate[c + k] = kiln_activation(out[k], (int) act[0], act[1], act[2]);
        }
    }
}

/*
 * Where both weights are large enough (EfficientNet-B0's last blocks: 2 x 221 KB, read from
 * memory each run) the rows of the first product, then the channels of the second, are shared
 * between the threads.
 */
void kiln_squeeze_excitation(const float *means, const float *w1, const float *b1, const float *w2t,
                             const float *b2, float *gate, long images, long channels, long reduced,
                             const float *activations /* kind, alpha, beta of the squeeze, then of the gate */) {
    float hidden[reduced];
    long blocks = (channels + 15) / 16;
    for (long image = 0; image < images; image++) {
        const float *mean = means + image * channels;
        float *g = gate + image * channels;
        if (!in_parallel(reduced * channels)) {
            squeeze_rows(mean, w1, b1, hidden, channels, activations, 0, reduced);
            excite_channels(hidden, w2t, b2, g, channels, reduced, activations + 3, 0, channels);
            continue;
        }
        #pragma omp parallel
        {
            long thread = omp_get_thread_num(), threads = omp_get_num_threads();
            squeeze_rows(mean, w1, b1, hidden, channels, activations, reduced * thread / threads,
                         reduced * (thread + 1) / threads);
            #pragma omp barrier
            long to = blocks * (thread + 1) / threads * 16;
            excite_channels(hidden, w2t, b2, g, channels, reduced, activations + 3, blocks * thread / threads * 16,
                            to < channels ? to : channels);
        }
    }
}
