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
 */
#include <immintrin.h>
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
        __mmask16 tail = (__mmask16) ((1u << (to - i)) - 1);
        _mm512_mask_storeu_ps(data + i, tail, swish16(_mm512_maskz_loadu_ps(tail, data + i)));
    }
}

/* Partial sums per channel stay float for this many pixels, then go into double totals. */
#define PIXELS_PER_PARTIAL 64

__attribute__((target("avx512f")))
static void swish_rows(float *data, long from, long to, long channels, float *partial) {
    long whole = channels / 16 * 16;
    __mmask16 tail = (__mmask16) ((1u << (channels - whole)) - 1);
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
