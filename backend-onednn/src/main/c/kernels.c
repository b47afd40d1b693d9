/*
 * Kernels the onednn backend runs beside oneDNN's primitives, on the same OpenMP team (this
 * library links the libgomp.so.1 that oneDNN already loaded), where oneDNN's own is slower.
 *
 * swish(x) = x * sigmoid(x), in place. oneDNN 3.13 applies it as a post-op at 0.52 ns per value
 * per thread (its exp, then a division); EfficientNet spends a fifth of its time there. Here exp
 * is a Cody-Waite reduction and a degree-5 polynomial scaled by 2^k, and 1 / (1 + e) on AVX-512 a
 * 14-bit reciprocal estimate with one Newton step (on AVX2 a division): about 1e-7 relative
 * error, about 0.33 ns per value. A convolution followed by this pass beats the convolution with
 * the post-op by 2-13% on AVX-512 and 10-34% on AVX2 (EfficientNet-B0's convolutions that take
 * it, one thread, oneDNN on the same ISA).
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
 *
 * Each comes in two forms, written once in kernels_isa.h and included below once per instruction
 * set: AVX-512F (kiln_swish_avx512, ...) and AVX2 with FMA (kiln_swish_avx2, ...), for the CPUs
 * without AVX-512 (AMD's before Zen 4, Intel's client cores). kiln_kernels_isa says which this
 * CPU runs; NativeKernels binds one form, no wider than oneDNN may use.
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


/* Partial sums per channel stay float for this many pixels, then go into double totals. */
#define PIXELS_PER_PARTIAL 64

/* The squeeze-excitation's activations, as NativeKernels.activationCodes writes them. */
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

/* The instruction sets the kernels come in, as kiln_kernels_isa answers (NativeKernels.Isa). */
enum { ISA_NONE, ISA_AVX2, ISA_AVX512 };

/* The widest form of the kernels this CPU runs: AVX-512F, AVX2 with FMA, or none. */
int kiln_kernels_isa(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        return ISA_AVX512;
    }
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? ISA_AVX2 : ISA_NONE;
}

/*
 * AVX-512F: 16 lanes, masked loads and stores for the tails, 32 registers (all 16 values of a
 * Winograd tile stay in them).
 */
#pragma GCC push_options
#pragma GCC target("avx512f")
#define SIMD(name) name##_avx512
#define LANES 16
#define vec __m512
#define vzero _mm512_setzero_ps
#define vset1 _mm512_set1_ps
#define vadd _mm512_add_ps
#define vsub _mm512_sub_ps
#define vmul _mm512_mul_ps
#define vfmadd _mm512_fmadd_ps
#define vmin _mm512_min_ps
#define vmax _mm512_max_ps
#define vload _mm512_loadu_ps
#define vstore _mm512_storeu_ps
#define reduce_add _mm512_reduce_add_ps
#define load_part load_part_avx512
#define store_part store_part_avx512
#define swish_vec swish_avx512
#define sigmoid_vec sigmoid_avx512

/* A mask of the first n of 16 lanes (all of them from 16 on). */
static inline __mmask16 first_lanes_avx512(long n) {
    return n >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << n) - 1);
}

static inline __m512 load_part_avx512(const float *p, long n) {
    return _mm512_maskz_loadu_ps(first_lanes_avx512(n), p);
}

static inline void store_part_avx512(float *p, long n, __m512 v) {
    _mm512_mask_storeu_ps(p, first_lanes_avx512(n), v);
}

/* 1 / (1 + exp(-x)), the reciprocal a 14-bit estimate and one Newton step. */
static inline __m512 sigmoid_avx512(__m512 x) {
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
    return _mm512_mul_ps(y, _mm512_fnmadd_ps(d, y, _mm512_set1_ps(2.f)));
}

static inline __m512 swish_avx512(__m512 x) {
    /* x floored at -100 so that -inf gives (almost) 0, as the limit does; max(c, NaN) keeps the NaN */
    return _mm512_mul_ps(_mm512_max_ps(_mm512_set1_ps(-100.f), x), sigmoid_avx512(x));
}

#include "kernels_isa.h"

#undef SIMD
#undef LANES
#undef vec
#undef vzero
#undef vset1
#undef vadd
#undef vsub
#undef vmul
#undef vfmadd
#undef vmin
#undef vmax
#undef vload
#undef vstore
#undef reduce_add
#undef load_part
#undef store_part
#undef swish_vec
#undef sigmoid_vec
#pragma GCC pop_options

/*
 * AVX2 with FMA: 8 lanes and 16 registers. Its masked moves (vmaskmovps) are slow on AMD's
 * cores, so only a tail shorter than a vector takes them; it has no vscalefps (2^k is built in
 * the exponent bits) and only a 12-bit reciprocal estimate (one Newton step would leave 1e-7 of
 * error on top of the exp's, so swish divides).
 */
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SIMD(name) name##_avx2
#define LANES 8
#define vec __m256
#define vzero _mm256_setzero_ps
#define vset1 _mm256_set1_ps
#define vadd _mm256_add_ps
#define vsub _mm256_sub_ps
#define vmul _mm256_mul_ps
#define vfmadd _mm256_fmadd_ps
#define vmin _mm256_min_ps
#define vmax _mm256_max_ps
#define vload _mm256_loadu_ps
#define vstore _mm256_storeu_ps
#define reduce_add reduce_add_avx2
#define load_part load_part_avx2
#define store_part store_part_avx2
#define swish_vec swish_avx2
#define sigmoid_vec sigmoid_avx2

/* A mask of the first n of 8 lanes, n < 8. */
static inline __m256i first_lanes_avx2(long n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int) n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m256 load_part_avx2(const float *p, long n) {
    return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, first_lanes_avx2(n));
}

static inline void store_part_avx2(float *p, long n, __m256 v) {
    if (n >= 8) {
        _mm256_storeu_ps(p, v);
    } else {
        _mm256_maskstore_ps(p, first_lanes_avx2(n), v);
    }
}

static inline float reduce_add_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/* 1 + exp(-x) as the AVX-512 form computes it, but 2^k built in the exponent bits. */
static inline __m256 one_plus_exp_neg_avx2(__m256 x) {
    const __m256 round = _mm256_set1_ps(12582912.f); /* 1.5 * 2^23: adding it rounds to an integer */
    __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), x), _mm256_set1_ps(-87.3f)),
                             _mm256_set1_ps(88.3f));
    __m256 k = _mm256_sub_ps(_mm256_fmadd_ps(t, _mm256_set1_ps(1.44269504f), round), round);
    __m256 r = _mm256_fmadd_ps(k, _mm256_set1_ps(-0.693359375f), t);
    r = _mm256_fmadd_ps(k, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_fmadd_ps(r, _mm256_set1_ps(1.9875691500e-4f), _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.f));
    /* 2^k: the clamp keeps k in [-126, 127], a normal float's exponents */
    __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(
            _mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
    return _mm256_fmadd_ps(p, scale, _mm256_set1_ps(1.f));
}

static inline __m256 sigmoid_avx2(__m256 x) {
    return _mm256_div_ps(_mm256_set1_ps(1.f), one_plus_exp_neg_avx2(x));
}

static inline __m256 swish_avx2(__m256 x) {
    return _mm256_div_ps(_mm256_max_ps(_mm256_set1_ps(-100.f), x), one_plus_exp_neg_avx2(x));
}

#include "kernels_isa.h"

#pragma GCC pop_options
