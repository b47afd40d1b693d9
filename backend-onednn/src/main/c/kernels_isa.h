/*
 * The kernels of kernels.c written once for every instruction set: kernels.c includes this file
 * once per ISA, under that ISA's target pragma, after defining its vocabulary:
 *   SIMD(name)        name with the ISA's suffix (kiln_swish -> kiln_swish_avx2)
 *   LANES             floats per vector
 *   vec               the vector type
 *   vzero(), vset1(f), vadd, vsub, vmul, vfmadd(a, b, c) = a * b + c, vmin, vmax (NaN in the
 *                     second operand is returned: max(c, NaN) keeps the NaN)
 *   vload(p), vstore(p, v)              a whole vector
 *   load_part(p, n), store_part(p, n, v)  the first min(n, LANES) floats, the rest read as 0
 *                                       and not written (n >= 1)
 *   reduce_add(v)     the sum of the lanes
 *   swish_vec(x)      x * sigmoid(x) in every lane
 *   sigmoid_vec(x)    1 / (1 + exp(-x)) in every lane
 * Only the exported functions (kiln_..._<isa>) are seen from outside; everything else is static.
 */

static void SIMD(swish_range)(float *data, long from, long to) {
    long i = from;
    for (; i + LANES <= to; i += LANES) {
        vstore(data + i, swish_vec(vload(data + i)));
    }
    if (i < to) {
        store_part(data + i, to - i, swish_vec(load_part(data + i, to - i)));
    }
}

static void SIMD(swish_rows)(float *data, long from, long to, long channels, float *partial) {
    long whole = channels / LANES * LANES;
    for (long p = from; p < to; p++) {
        float *row = data + p * channels;
        long c = 0;
        for (; c < whole; c += LANES) {
            vec s = swish_vec(vload(row + c));
            vstore(row + c, s);
            vstore(partial + c, vadd(vload(partial + c), s));
        }
        if (c < channels) {
            long n = channels - c;
            vec s = swish_vec(load_part(row + c, n));
            store_part(row + c, n, s);
            store_part(partial + c, n, vadd(load_part(partial + c, n), s));
        }
    }
}

static void SIMD(swish_part)(float *data, long count, long thread, long threads) {
    long vectors = (count + LANES - 1) / LANES;
    long from = vectors * thread / threads * LANES;
    long to = vectors * (thread + 1) / threads * LANES;
    SIMD(swish_range)(data, from, to < count ? to : count);
}

/* Swish of count floats at data, in place, on the calling thread's OpenMP team (omp_set_num_threads). */
void SIMD(kiln_swish)(float *data, long count) {
    if (!in_parallel(count)) {
        SIMD(swish_part)(data, count, 0, 1);
        return;
    }
    #pragma omp parallel
    SIMD(swish_part)(data, count, omp_get_thread_num(), omp_get_num_threads());
}

/* This thread's share of the pixels: swished, and its sum per channel added to means / pixels. */
static void SIMD(swish_channel_means_part)(float *data, long pixels, long channels, float *means, long thread,
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
        SIMD(swish_rows)(data, p, p + PIXELS_PER_PARTIAL < to ? p + PIXELS_PER_PARTIAL : to, channels, partial);
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
void SIMD(kiln_swish_channel_means)(float *data, long pixels, long channels, float *means) {
    for (long c = 0; c < channels; c++) {
        means[c] = 0;
    }
    if (!in_parallel(pixels * channels)) {
        SIMD(swish_channel_means_part)(data, pixels, channels, means, 0, 1);
        return;
    }
    #pragma omp parallel
    SIMD(swish_channel_means_part)(data, pixels, channels, means, omp_get_thread_num(), omp_get_num_threads());
}

static void SIMD(winograd_input_tiles)(const float *src, float *v, const kiln_winograd_shape *s, long from,
                                       long to) {
    long tiles = tiles_of(s);
    long channels = s->channels;
    long per_image = s->tiles_down * s->tiles_across;
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
        for (long c = 0; c < channels; c += LANES) {
            long n = channels - c;
            vec d[16];
            for (int k = 0; k < 16; k++) {
                d[k] = at[k] ? load_part(at[k] + c, n) : vzero();
            }
            /* rows: B^T d */
            vec x[16];
            for (int j = 0; j < 4; j++) {
                x[0 * 4 + j] = vsub(d[0 * 4 + j], d[2 * 4 + j]);
                x[1 * 4 + j] = vadd(d[1 * 4 + j], d[2 * 4 + j]);
                x[2 * 4 + j] = vsub(d[2 * 4 + j], d[1 * 4 + j]);
                x[3 * 4 + j] = vsub(d[1 * 4 + j], d[3 * 4 + j]);
            }
            /* columns: (B^T d) B */
            for (int i = 0; i < 4; i++) {
                store_part(v + ((i * 4 + 0) * tiles + t) * channels + c, n, vsub(x[i * 4 + 0], x[i * 4 + 2]));
                store_part(v + ((i * 4 + 1) * tiles + t) * channels + c, n, vadd(x[i * 4 + 1], x[i * 4 + 2]));
                store_part(v + ((i * 4 + 2) * tiles + t) * channels + c, n, vsub(x[i * 4 + 2], x[i * 4 + 1]));
                store_part(v + ((i * 4 + 3) * tiles + t) * channels + c, n, vsub(x[i * 4 + 1], x[i * 4 + 3]));
            }
        }
    }
}

static void SIMD(winograd_output_tiles)(const float *mm, float *dst, const float *bias, const float *residual,
                                        float low, float high, const kiln_winograd_shape *s, long out_channels,
                                        long from, long to) {
    long tiles = tiles_of(s);
    long per_image = s->tiles_down * s->tiles_across;
    const vec lo = vset1(low), hi = vset1(high);
    for (long t = from; t < to; t++) {
        long image = t / per_image;
        long row0 = (t % per_image) / s->tiles_across * 2;
        long col0 = (t % per_image) % s->tiles_across * 2;
        int rows = s->out_height - row0 >= 2 ? 2 : 1;
        int cols = s->out_width - col0 >= 2 ? 2 : 1;
        long at = ((image * s->out_height + row0) * s->out_width + col0) * out_channels;
        float *out = dst + at;
        const float *added = residual ? residual + at : 0;
        for (long c = 0; c < out_channels; c += LANES) {
            long n = out_channels - c;
            vec p[16];
            for (int k = 0; k < 16; k++) {
                p[k] = load_part(mm + (k * tiles + t) * out_channels + c, n);
            }
            /* rows: A^T M, two rows of four */
            vec x[8];
            for (int j = 0; j < 4; j++) {
                x[0 * 4 + j] = vadd(vadd(p[0 * 4 + j], p[1 * 4 + j]), p[2 * 4 + j]);
                x[1 * 4 + j] = vsub(vsub(p[1 * 4 + j], p[2 * 4 + j]), p[3 * 4 + j]);
            }
            vec b = bias ? load_part(bias + c, n) : vzero();
            for (int i = 0; i < rows; i++) {
                vec y0 = vadd(vadd(vadd(x[i * 4 + 0], x[i * 4 + 1]), x[i * 4 + 2]), b);
                vec y1 = vadd(vsub(vsub(x[i * 4 + 1], x[i * 4 + 2]), x[i * 4 + 3]), b);
                long offset = i * s->out_width * out_channels + c;
                if (added) { /* read before the store: dst may be the residual itself */
                    y0 = vadd(y0, load_part(added + offset, n));
                    if (cols == 2) {
                        y1 = vadd(y1, load_part(added + offset + out_channels, n));
                    }
                }
                /* max(lo, y) and min(hi, .) return y itself when it is NaN */
                y0 = vmin(hi, vmax(lo, y0));
                y1 = vmin(hi, vmax(lo, y1));
                float *row = out + offset;
                store_part(row, n, y0);
                if (cols == 2) {
                    store_part(row + out_channels, n, y1);
                }
            }
        }
    }
}

/* The input transform of a channels-last image into v[16][tiles][channels]. */
void SIMD(kiln_winograd_input)(const float *src, float *v, const kiln_winograd_shape *s) {
    long tiles = tiles_of(s);
    if (!in_parallel(tiles * 16 * s->channels)) {
        SIMD(winograd_input_tiles)(src, v, s, 0, tiles);
        return;
    }
    #pragma omp parallel
    {
        long thread = omp_get_thread_num(), threads = omp_get_num_threads();
        SIMD(winograd_input_tiles)(src, v, s, tiles * thread / threads, tiles * (thread + 1) / threads);
    }
}

/*
 * The output transform of m[16][tiles][out_channels] into a channels-last image, plus the bias
 * and a channels-last residual of the output's shape (NULL for none; it may be dst itself),
 * clamped to [low, high] (relu: 0 and infinity; none: both infinite).
 */
void SIMD(kiln_winograd_output)(const float *m, float *dst, const float *bias, const float *residual, float low,
                                float high, const kiln_winograd_shape *s, long out_channels) {
    long tiles = tiles_of(s);
    if (!in_parallel(tiles * 16 * out_channels)) {
        SIMD(winograd_output_tiles)(m, dst, bias, residual, low, high, s, out_channels, 0, tiles);
        return;
    }
    #pragma omp parallel
    {
        long thread = omp_get_thread_num(), threads = omp_get_num_threads();
        SIMD(winograd_output_tiles)(m, dst, bias, residual, low, high, s, out_channels, tiles * thread / threads,
                                    tiles * (thread + 1) / threads);
    }
}

/*
 * hidden[r] = act(w1[r] . mean + b1[r]) for rows r of [from, to). Four sums in turn: one alone
 * waits out each multiply-add's latency (AVX2's excitation of 1152 channels through 48 took
 * 23 us that way, oneDNN's two convolutions 8.5).
 */
static void SIMD(squeeze_rows)(const float *mean, const float *w1, const float *b1, float *hidden, long channels,
                               const float *act, long from, long to) {
    long whole = channels / LANES * LANES;
    for (long r = from; r < to; r++) {
        const float *row = w1 + r * channels;
        vec s0 = vzero(), s1 = vzero(), s2 = vzero(), s3 = vzero();
        long c = 0;
        for (; c + 4 * LANES <= whole; c += 4 * LANES) {
            s0 = vfmadd(vload(row + c), vload(mean + c), s0);
            s1 = vfmadd(vload(row + c + LANES), vload(mean + c + LANES), s1);
            s2 = vfmadd(vload(row + c + 2 * LANES), vload(mean + c + 2 * LANES), s2);
            s3 = vfmadd(vload(row + c + 3 * LANES), vload(mean + c + 3 * LANES), s3);
        }
        for (; c < whole; c += LANES) {
            s0 = vfmadd(vload(row + c), vload(mean + c), s0);
        }
        if (whole < channels) {
            long n = channels - whole;
            s1 = vfmadd(load_part(row + whole, n), load_part(mean + whole, n), s1);
        }
        float sum = reduce_add(vadd(vadd(s0, s1), vadd(s2, s3)));
        hidden[r] = kiln_activation(sum + (b1 ? b1[r] : 0), (int) act[0], act[1], act[2]);
    }
}

/* The gates' usual activations on whole vectors: sigmoid (EfficientNet) and hard sigmoid (MobileNet v3). */
static inline int SIMD(is_vector_gate)(const float *act) {
    return (int) act[0] == ACT_SIGMOID || (int) act[0] == ACT_HARD_SIGMOID;
}

static inline vec SIMD(gate_vec)(vec x, const float *act) {
    if ((int) act[0] == ACT_SIGMOID) {
        return sigmoid_vec(x);
    }
    /* min(1, NaN) and max(0, NaN) return the NaN, as the scalar form does */
    return vmax(vzero(), vmin(vset1(1.f), vfmadd(x, vset1(act[1]), vset1(act[2]))));
}

/*
 * gate[c] = act(w2t[.][c] . hidden + b2[c]) for channels c of [from, to), from a multiple of
 * LANES: four vectors of channels at a time, each its own sum (as above), the usual gate
 * activations on whole vectors (scalar, 1152 sigmoids took more than the products).
 */
static void SIMD(excite_channels)(const float *hidden, const float *w2t, const float *b2, float *gate,
                                  long channels, long reduced, const float *act, long from, long to) {
    float out[4 * LANES];
    int vector_gate = SIMD(is_vector_gate)(act);
    long c = from;
    for (; c + 4 * LANES <= to; c += 4 * LANES) {
        vec s0 = vzero(), s1 = vzero(), s2 = vzero(), s3 = vzero();
        if (b2) {
            s0 = vload(b2 + c);
            s1 = vload(b2 + c + LANES);
            s2 = vload(b2 + c + 2 * LANES);
            s3 = vload(b2 + c + 3 * LANES);
        }
        for (long r = 0; r < reduced; r++) {
            const float *w = w2t + r * channels + c;
            vec h = vset1(hidden[r]);
            s0 = vfmadd(vload(w), h, s0);
            s1 = vfmadd(vload(w + LANES), h, s1);
            s2 = vfmadd(vload(w + 2 * LANES), h, s2);
            s3 = vfmadd(vload(w + 3 * LANES), h, s3);
        }
        if (vector_gate) {
            vstore(gate + c, SIMD(gate_vec)(s0, act));
            vstore(gate + c + LANES, SIMD(gate_vec)(s1, act));
            vstore(gate + c + 2 * LANES, SIMD(gate_vec)(s2, act));
            vstore(gate + c + 3 * LANES, SIMD(gate_vec)(s3, act));
            continue;
        }
        vstore(out, s0);
        vstore(out + LANES, s1);
        vstore(out + 2 * LANES, s2);
        vstore(out + 3 * LANES, s3);
        for (long k = 0; k < 4 * LANES; k++) {
            gate[c + k] = kiln_activation(out[k], (int) act[0], act[1], act[2]);
        }
    }
    for (; c < to; c += LANES) {
        long n = to - c;
        vec sum = b2 ? load_part(b2 + c, n) : vzero();
        for (long r = 0; r < reduced; r++) {
            sum = vfmadd(load_part(w2t + r * channels + c, n), vset1(hidden[r]), sum);
        }
        vstore(out, sum);
        for (long k = 0; k < LANES && c + k < to; k++) {
            gate[c + k] = kiln_activation(out[k], (int) act[0], act[1], act[2]);
        }
    }
}

/*
 * A squeeze-excitation's excitation: from each image's channel means, the gate
 * act2(W2 act1(W1 mean + b1) + b2); w1 is [reduced][channels], w2t [reduced][channels] (the
 * second convolution's weights transposed), biases may be NULL. Where both weights are large
 * enough (EfficientNet-B0's last blocks: 2 x 221 KB, read from memory each run) the rows of the
 * first product, then the channels of the second, are shared between the threads.
 */
void SIMD(kiln_squeeze_excitation)(const float *means, const float *w1, const float *b1, const float *w2t,
                                   const float *b2, float *gate, long images, long channels, long reduced,
                                   const float *activations /* kind, alpha, beta of the squeeze, then the gate */) {
    float hidden[reduced];
    long blocks = (channels + LANES - 1) / LANES;
    for (long image = 0; image < images; image++) {
        const float *mean = means + image * channels;
        float *g = gate + image * channels;
        if (!in_parallel(reduced * channels)) {
            SIMD(squeeze_rows)(mean, w1, b1, hidden, channels, activations, 0, reduced);
            SIMD(excite_channels)(hidden, w2t, b2, g, channels, reduced, activations + 3, 0, channels);
            continue;
        }
        #pragma omp parallel
        {
            long thread = omp_get_thread_num(), threads = omp_get_num_threads();
            SIMD(squeeze_rows)(mean, w1, b1, hidden, channels, activations, reduced * thread / threads,
                               reduced * (thread + 1) / threads);
            #pragma omp barrier
            long to = blocks * (thread + 1) / threads * LANES;
            SIMD(excite_channels)(hidden, w2t, b2, g, channels, reduced, activations + 3,
                                  blocks * thread / threads * LANES, to < channels ? to : channels);
        }
    }
}
