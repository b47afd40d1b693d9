// Kiln's OpenCL C kernels: float32 throughout, NCHW buffers, built without fast-math options.
// TILE_M, TILE_N, TILE_K, PER_ITEM_M, PER_ITEM_N and REDUCTION come from the build options,
// chosen from the device's limits (TileSizes.java).

#define ITEMS_N (TILE_N / PER_ITEM_N)
#define ITEMS_M (TILE_M / PER_ITEM_M)

// Post-op kinds, as PostOpCodes.java numbers them. A fused epilogue is up to four of them,
// passed as data (int4 kinds, float4 alphas, float4 betas) so one program serves every node.
#define POST_NONE 0
#define POST_RELU 1
#define POST_CLIP 2
#define POST_SIGMOID 3
#define POST_SILU 4
#define POST_HARD_SIGMOID 5
#define POST_HARD_SWISH 6
#define POST_LEAKY_RELU 7
#define POST_TANH 8
#define POST_ADD_RESIDUAL 9

// One post-op on `v`, a float or a float16: the built-ins take both, and select keeps `v` where
// it is not negative (per lane for a vector). `r` is the residual's value, read only when added.
#define POST_OP_SWITCH(v, kind, a, b, r) \
    switch (kind) { \
        case POST_RELU: return fmax(v, 0.0f); \
        case POST_CLIP: return fmin(fmax(v, a), b); \
        case POST_SIGMOID: return 1.0f / (1.0f + exp(-v)); \
        case POST_SILU: return v / (1.0f + exp(-v)); \
        case POST_HARD_SIGMOID: return fmax(0.0f, fmin(1.0f, a * v + b)); \
        case POST_HARD_SWISH: return v * fmax(0.0f, fmin(1.0f, v / 6.0f + 0.5f)); \
        case POST_LEAKY_RELU: return select(a * v, v, v >= 0.0f); \
        case POST_TANH: return tanh(v); \
        case POST_ADD_RESIDUAL: return v + (r); \
        default: return v; \
    }

inline float post_op(float v, int kind, float a, float b, __global const float* residual, long index) {
    POST_OP_SWITCH(v, kind, a, b, residual[index])
}

inline float epilogue(float v, int4 kinds, float4 alphas, float4 betas, __global const float* residual, long index) {
    v = post_op(v, kinds.s0, alphas.s0, betas.s0, residual, index);
    v = post_op(v, kinds.s1, alphas.s1, betas.s1, residual, index);
    v = post_op(v, kinds.s2, alphas.s2, betas.s2, residual, index);
    return post_op(v, kinds.s3, alphas.s3, betas.s3, residual, index);
}

// Convolution as an implicit GEMM per (image, group): rows are the group's output channels,
// columns its output pixels, the reduction runs over input channel and kernel tap. A
// work-group stages a TILE_M x TILE_K slice of the weights and a TILE_K x TILE_N slice of the
// (never materialised) im2col matrix in local memory; each work-item accumulates a
// PER_ITEM_M x PER_ITEM_N register tile. Global size: (pixel tiles * ITEMS_N,
// channel tiles * ITEMS_M, batch * groups).
__kernel __attribute__((reqd_work_group_size(ITEMS_N, ITEMS_M, 1)))
void conv_gemm(__global const float* x, __global const float* w, __global const float* bias, int has_bias,
               __global const float* residual, __global float* y,
               int channels, int height, int width, int out_channels, int out_h, int out_w,
               int groups, int group_in, int group_out, int kernel_h, int kernel_w,
               int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h, int dilation_w,
               int4 kinds, float4 alphas, float4 betas) {
    __local float a_tile[TILE_K][TILE_M];
    __local float b_tile[TILE_K][TILE_N];
    const int item_n = get_local_id(0), item_m = get_local_id(1);
    const int pixel0 = get_group_id(0) * TILE_N, m0 = get_group_id(1) * TILE_M;
    const int image = get_global_id(2) / groups, group = get_global_id(2) % groups;
    const int taps = kernel_h * kernel_w;
    const int depth = group_in * taps;
    const int pixels = out_h * out_w;
    const int plane = height * width;
    const int pointwise = taps == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0
            && out_h == height && out_w == width;
    __global const float* xg = x + ((long) image * channels + (long) group * group_in) * plane;
    __global const float* wg = w + (long) group * group_out * depth;
    const int local_id = item_m * ITEMS_N + item_n;
    const int local_count = ITEMS_N * ITEMS_M;

    float acc[PER_ITEM_M][PER_ITEM_N];
    for (int i = 0; i < PER_ITEM_M; i++) {
        for (int j = 0; j < PER_ITEM_N; j++) {
            acc[i][j] = 0.0f;
        }
    }
    for (int k0 = 0; k0 < depth; k0 += TILE_K) {
        for (int e = local_id; e < TILE_M * TILE_K; e += local_count) {
            const int mm = e / TILE_K, kk = e % TILE_K;
            const int m = m0 + mm, k = k0 + kk;
            a_tile[kk][mm] = (m < group_out && k < depth) ? wg[(long) m * depth + k] : 0.0f;
        }
        for (int e = local_id; e < TILE_K * TILE_N; e += local_count) {
            const int kk = e / TILE_N, pp = e % TILE_N;
            const int k = k0 + kk, p = pixel0 + pp;
            float v = 0.0f;
            if (k < depth && p < pixels) {
                if (pointwise) {
                    v = xg[(long) k * plane + p];
                } else {
                    const int c = k / taps, tap = k - c * taps;
                    const int ky = tap / kernel_w, kx = tap - ky * kernel_w;
                    const int oy = p / out_w, ox = p - oy * out_w;
                    const int iy = oy * stride_h - pad_top + ky * dilation_h;
                    const int ix = ox * stride_w - pad_left + kx * dilation_w;
                    if (iy >= 0 && iy < height && ix >= 0 && ix < width) {
                        v = xg[(long) c * plane + iy * width + ix];
                    }
                }
            }
            b_tile[kk][pp] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TILE_K; kk++) {
            float a[PER_ITEM_M], b[PER_ITEM_N];
            for (int i = 0; i < PER_ITEM_M; i++) {
                a[i] = a_tile[kk][item_m + i * ITEMS_M];
            }
            for (int j = 0; j < PER_ITEM_N; j++) {
                b[j] = b_tile[kk][item_n + j * ITEMS_N];
            }
            for (int i = 0; i < PER_ITEM_M; i++) {
                for (int j = 0; j < PER_ITEM_N; j++) {
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < PER_ITEM_M; i++) {
        const int m = m0 + item_m + i * ITEMS_M;
        if (m >= group_out) {
            continue;
        }
        const int channel = group * group_out + m;
        const float b0 = has_bias ? bias[channel] : 0.0f;
        for (int j = 0; j < PER_ITEM_N; j++) {
            const int p = pixel0 + item_n + j * ITEMS_N;
            if (p < pixels) {
                const long index = ((long) image * out_channels + channel) * pixels + p;
                y[index] = epilogue(acc[i][j] + b0, kinds, alphas, betas, residual, index);
            }
        }
    }
}

// The same convolution for CPU devices, without local memory or barriers. A CPU runtime runs
// the work-items of a group as a loop, which its compiler vectorises only when the kernel has
// no loops of its own, and a barrier splits that loop and spills every register tile; so the
// vectors are explicit here: each work-item computes 8 output channels of 16 pixels of two
// output rows (fewer at the row's end) as float16 accumulators, so that a window row is one
// contiguous (stride 1) or every-other (stride 2) run of inputs, and a weight broadcast feeds
// two FMAs. Needs group_out >= 8. Channel blocks come first, as in conv_pointwise_rows. Global
// size: (channel blocks of 8, ceil(out_h / 2) * ceil(out_w / 16), batch * groups).
#define CPU_ROWS 8

// Inputs at these plane offsets, zero where `inside` is false.
inline float16 gather16(__global const float* xc, int16 offset, int16 inside) {
    const int16 index = select((int16) 0, offset, inside);
    float lanes[16];
    for (int j = 0; j < 16; j++) {
        lanes[j] = xc[((const int*) &index)[j]];
    }
    return select((float16) 0.0f, vload16(0, lanes), inside);
}

// post_op on a vector: the kind is the same for all 16 lanes, so the switch is taken once per
// vector, not once per output. `r` holds the residual's lanes.
inline float16 post_op16(float16 v, int kind, float a, float b, float16 r) {
    POST_OP_SWITCH(v, kind, a, b, r)
}

inline float16 epilogue16(float16 v, int4 kinds, float4 alphas, float4 betas, float16 r) {
    v = post_op16(v, kinds.s0, alphas.s0, betas.s0, r);
    v = post_op16(v, kinds.s1, alphas.s1, betas.s1, r);
    v = post_op16(v, kinds.s2, alphas.s2, betas.s2, r);
    return post_op16(v, kinds.s3, alphas.s3, betas.s3, r);
}

// The epilogue for `count` (1 to 16) consecutive outputs of one channel, in vectors: a scalar
// epilogue per output cost more than the convolution's arithmetic on ResNet-50's wide layers.
// The residual is read only when the epilogue adds it (else it is a one-float placeholder).
inline void store16(__global float* y, float16 v, long base, int count, int4 kinds, float4 alphas, float4 betas,
                    __global const float* residual) {
    const int adds = any(kinds == (int4) POST_ADD_RESIDUAL);
    if (count == 16) {
        const float16 r = adds ? vload16(0, residual + base) : (float16) 0.0f;
        vstore16(epilogue16(v, kinds, alphas, betas, r), 0, y + base);
        return;
    }
    float lanes[16];
    for (int j = 0; j < 16; j++) {
        lanes[j] = adds && j < count ? residual[base + j] : 0.0f;
    }
    vstore16(epilogue16(v, kinds, alphas, betas, vload16(0, lanes)), 0, lanes);
    for (int j = 0; j < count; j++) {
        y[base + j] = lanes[j];
    }
}

#define LANES ((int16) (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))

// The inputs one kernel tap sees under 16 outputs of a row: row iy, columns ix0 + j * stride_w,
// zero outside the image and in lanes that are not outputs. One vector load (two for stride 2)
// when the run lies inside the plane, else one load per lane.
inline float16 window_row16(__global const float* xc, int iy, int ix0, int stride_w, int width, int plane,
                            int16 lane_inside) {
    const int16 ix = ix0 + LANES * stride_w;
    const int16 inside = lane_inside & (ix >= 0) & (ix < width);
    const int start = iy * width + ix0;
    if (stride_w == 1 && start >= 0 && start + 16 <= plane) {
        return select((float16) 0.0f, vload16(0, xc + start), inside);
    }
    if (stride_w == 2 && start >= 0 && start + 32 <= plane) {
        const float16 lo = vload16(0, xc + start), hi = vload16(0, xc + start + 16);
        return select((float16) 0.0f, (float16) (lo.even, hi.even), inside);
    }
    return gather16(xc, iy * width + ix, inside);
}

__kernel void conv_rows(__global const float* x, __global const float* w, __global const float* bias, int has_bias,
                        __global const float* residual, __global float* y,
                        int channels, int height, int width, int out_channels, int out_h, int out_w,
                        int groups, int group_in, int group_out, int kernel_h, int kernel_w,
                        int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h, int dilation_w,
                        int4 kinds, float4 alphas, float4 betas) {
    const int pixels = out_h * out_w;
    // The last block of channels is moved back to end at the last row, overlapping the one
    // before, and stores only the rows that one did not.
    const int first = get_global_id(0) * CPU_ROWS;
    const int m0 = min(first, group_out - CPU_ROWS);
    const int image = get_global_id(2) / groups, group = get_global_id(2) % groups;
    const int taps = kernel_h * kernel_w;
    const int depth = group_in * taps;
    const int plane = height * width;
    __global const float* xg = x + ((long) image * channels + (long) group * group_in) * plane;
    // Eight named accumulators per output row and eight weight rows: an array of them would
    // live in memory.
    __global const float* w0 = w + ((long) group * group_out + m0) * depth;
    __global const float* w1 = w0 + depth;
    __global const float* w2 = w1 + depth;
    __global const float* w3 = w2 + depth;
    __global const float* w4 = w3 + depth;
    __global const float* w5 = w4 + depth;
    __global const float* w6 = w5 + depth;
    __global const float* w7 = w6 + depth;
    float16 acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f, acc4 = 0.0f, acc5 = 0.0f, acc6 = 0.0f, acc7 = 0.0f;
    float16 bcc0 = 0.0f, bcc1 = 0.0f, bcc2 = 0.0f, bcc3 = 0.0f, bcc4 = 0.0f, bcc5 = 0.0f, bcc6 = 0.0f, bcc7 = 0.0f;
#define FMA_ROWS(v, u, k) { float16 s; \
    s = (float16) w0[k]; acc0 = fma(s, v, acc0); bcc0 = fma(s, u, bcc0); \
    s = (float16) w1[k]; acc1 = fma(s, v, acc1); bcc1 = fma(s, u, bcc1); \
    s = (float16) w2[k]; acc2 = fma(s, v, acc2); bcc2 = fma(s, u, bcc2); \
    s = (float16) w3[k]; acc3 = fma(s, v, acc3); bcc3 = fma(s, u, bcc3); \
    s = (float16) w4[k]; acc4 = fma(s, v, acc4); bcc4 = fma(s, u, bcc4); \
    s = (float16) w5[k]; acc5 = fma(s, v, acc5); bcc5 = fma(s, u, bcc5); \
    s = (float16) w6[k]; acc6 = fma(s, v, acc6); bcc6 = fma(s, u, bcc6); \
    s = (float16) w7[k]; acc7 = fma(s, v, acc7); bcc7 = fma(s, u, bcc7); }
    const int blocks_per_row = (out_w + 15) / 16;
    // Two output rows per work-item: each weight broadcast feeds two FMAs.
    const int row = get_global_id(1) / blocks_per_row * 2;
    const int col0 = get_global_id(1) % blocks_per_row * 16;
    if (row >= out_h || first >= group_out) {
        return; // the global size is rounded up to whole work-groups
    }
    const int second = row + 1 < out_h;
    const int p0 = row * out_w + col0;
    const int count = min(16, out_w - col0);
    const int16 lane_inside = LANES < count;
    // Taps outside, channels inside: where a tap's 16 inputs lie, and which lanes are inside the
    // image, is the same for every channel.
    for (int ky = 0; ky < kernel_h; ky++) {
        const int iy = row * stride_h - pad_top + ky * dilation_h, iy1 = iy + stride_h;
        const int on = iy >= 0 && iy < height, on1 = second && iy1 >= 0 && iy1 < height;
        if (!on && !on1) {
            continue;
        }
        for (int kx = 0; kx < kernel_w; kx++) {
            const int ix0 = col0 * stride_w - pad_left + kx * dilation_w;
            const int16 ix = ix0 + LANES * stride_w;
            const int16 inside = lane_inside & (ix >= 0) & (ix < width);
            const int start = iy * width + ix0, start1 = iy1 * width + ix0;
            const int tap = ky * kernel_w + kx;
            if (stride_w == 1 && on && on1 && start >= 0 && start1 + 16 <= plane) {
                for (int c = 0; c < group_in; c++) {
                    __global const float* xc = xg + (long) c * plane;
                    const float16 v = select((float16) 0.0f, vload16(0, xc + start), inside);
                    const float16 u = select((float16) 0.0f, vload16(0, xc + start1), inside);
                    const int k = c * taps + tap;
                    FMA_ROWS(v, u, k)
                }
            } else {
                for (int c = 0; c < group_in; c++) {
                    __global const float* xc = xg + (long) c * plane;
                    const float16 v = on ? window_row16(xc, iy, ix0, stride_w, width, plane, lane_inside)
                                         : (float16) 0.0f;
                    const float16 u = on1 ? window_row16(xc, iy1, ix0, stride_w, width, plane, lane_inside)
                                          : (float16) 0.0f;
                    const int k = c * taps + tap;
                    FMA_ROWS(v, u, k)
                }
            }
        }
    }
#undef FMA_ROWS
    // Stored one named accumulator at a time: an array of them would be private memory per
    // work-item, which PoCL keeps on its thread's stack for the whole work-group (a work-group
    // of thousands overflowed it).
#define STORE_ROWS(i, a, b) if (m0 + i >= first) { \
        const int channel = group * group_out + m0 + i; \
        const float bias_value = has_bias ? bias[channel] : 0.0f; \
        const long base = ((long) image * out_channels + channel) * pixels + p0; \
        store16(y, a + bias_value, base, count, kinds, alphas, betas, residual); \
        if (second) { \
            store16(y, b + bias_value, base + out_w, count, kinds, alphas, betas, residual); \
        } \
    }
    STORE_ROWS(0, acc0, bcc0) STORE_ROWS(1, acc1, bcc1) STORE_ROWS(2, acc2, bcc2) STORE_ROWS(3, acc3, bcc3)
    STORE_ROWS(4, acc4, bcc4) STORE_ROWS(5, acc5, bcc5) STORE_ROWS(6, acc6, bcc6) STORE_ROWS(7, acc7, bcc7)
#undef STORE_ROWS
}

// Depthwise convolution (one input channel per output channel): one work-item per output
// element, the kernel window read straight from global memory. Global size: (out_w * out_h,
// channels, batch).
__kernel void conv_depthwise(__global const float* x, __global const float* w, __global const float* bias,
                             int has_bias, __global const float* residual, __global float* y,
                             int channels, int height, int width, int out_h, int out_w, int kernel_h, int kernel_w,
                             int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h, int dilation_w,
                             int4 kinds, float4 alphas, float4 betas) {
    const int p = get_global_id(0), c = get_global_id(1), image = get_global_id(2);
    if (p >= out_h * out_w) {
        return;
    }
    const int oy = p / out_w, ox = p - oy * out_w;
    __global const float* xc = x + ((long) image * channels + c) * height * width;
    __global const float* wc = w + (long) c * kernel_h * kernel_w;
    float sum = has_bias ? bias[c] : 0.0f;
    for (int ky = 0; ky < kernel_h; ky++) {
        const int iy = oy * stride_h - pad_top + ky * dilation_h;
        if (iy < 0 || iy >= height) {
            continue;
        }
        for (int kx = 0; kx < kernel_w; kx++) {
            const int ix = ox * stride_w - pad_left + kx * dilation_w;
            if (ix >= 0 && ix < width) {
                sum = fma(wc[ky * kernel_w + kx], xc[iy * width + ix], sum);
            }
        }
    }
    const long index = ((long) image * channels + c) * out_h * out_w + p;
    y[index] = epilogue(sum, kinds, alphas, betas, residual, index);
}

// A 1x1 stride-1 convolution for CPU devices: a GEMM of the weights [group_out, group_in] and the
// input planes [group_in, pixels]. Each work-item computes 8 output channels of 32 consecutive
// pixels (sixteen float16 accumulators: two vector loads and eight weight broadcasts feed
// sixteen FMAs). Needs group_out >= 8. Channel blocks are the first dimension, so that the
// work-items a CPU runs one after the other read the same inputs while they are in cache.
// Global size: (channel blocks of 8, ceil(pixels / 32), batch * groups).
__kernel void conv_pointwise_rows(__global const float* x, __global const float* w, __global const float* bias,
                                  int has_bias, __global const float* residual, __global float* y,
                                  int channels, int pixels, int out_channels, int groups, int group_in,
                                  int group_out, int4 kinds, float4 alphas, float4 betas) {
    const int p0 = get_global_id(1) * 32;
    const int first = get_global_id(0) * CPU_ROWS;
    const int m0 = min(first, group_out - CPU_ROWS);
    const int image = get_global_id(2) / groups, group = get_global_id(2) % groups;
    if (p0 >= pixels || first >= group_out) {
        return; // the global size is rounded up to whole work-groups
    }
    const int count = min(32, pixels - p0);
    __global const float* xg = x + ((long) image * channels + (long) group * group_in) * pixels + p0;
    __global const float* w0 = w + ((long) group * group_out + m0) * group_in;
    __global const float* w1 = w0 + group_in;
    __global const float* w2 = w1 + group_in;
    __global const float* w3 = w2 + group_in;
    __global const float* w4 = w3 + group_in;
    __global const float* w5 = w4 + group_in;
    __global const float* w6 = w5 + group_in;
    __global const float* w7 = w6 + group_in;
    float16 a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, a4 = 0.0f, a5 = 0.0f, a6 = 0.0f, a7 = 0.0f;
    float16 b0 = 0.0f, b1 = 0.0f, b2 = 0.0f, b3 = 0.0f, b4 = 0.0f, b5 = 0.0f, b6 = 0.0f, b7 = 0.0f;
    // Whole vectors even at the end of a plane: the lanes past it read the next plane, or the
    // tail every buffer has past its data (OpenClContext.TAIL_FLOATS), and are never stored.
    for (int k = 0; k < group_in; k++) {
        __global const float* xk = xg + (long) k * pixels;
        const float16 va = vload16(0, xk), vb = vload16(0, xk + 16);
        float16 s;
        s = (float16) w0[k]; a0 = fma(s, va, a0); b0 = fma(s, vb, b0);
        s = (float16) w1[k]; a1 = fma(s, va, a1); b1 = fma(s, vb, b1);
        s = (float16) w2[k]; a2 = fma(s, va, a2); b2 = fma(s, vb, b2);
        s = (float16) w3[k]; a3 = fma(s, va, a3); b3 = fma(s, vb, b3);
        s = (float16) w4[k]; a4 = fma(s, va, a4); b4 = fma(s, vb, b4);
        s = (float16) w5[k]; a5 = fma(s, va, a5); b5 = fma(s, vb, b5);
        s = (float16) w6[k]; a6 = fma(s, va, a6); b6 = fma(s, vb, b6);
        s = (float16) w7[k]; a7 = fma(s, va, a7); b7 = fma(s, vb, b7);
    }
    // One named accumulator at a time, as in conv_rows.
#define STORE_ROWS(i, lo, hi) if (m0 + i >= first) { \
        const int channel = group * group_out + m0 + i; \
        const float bias_value = has_bias ? bias[channel] : 0.0f; \
        const long base = ((long) image * out_channels + channel) * pixels + p0; \
        store16(y, lo + bias_value, base, min(16, count), kinds, alphas, betas, residual); \
        if (count > 16) { \
            store16(y, hi + bias_value, base + 16, count - 16, kinds, alphas, betas, residual); \
        } \
    }
    STORE_ROWS(0, a0, b0) STORE_ROWS(1, a1, b1) STORE_ROWS(2, a2, b2) STORE_ROWS(3, a3, b3)
    STORE_ROWS(4, a4, b4) STORE_ROWS(5, a5, b5) STORE_ROWS(6, a6, b6) STORE_ROWS(7, a7, b7)
#undef STORE_ROWS
}

// The im2col matrix of a convolution with one group, for conv_pointwise_rows to multiply: row
// c * taps + tap holds, for each output pixel, the input that tap sees in channel c (zero in the
// padding). Used on CPU devices for narrow outputs, where a row is too short to fill a vector.
// Each work-item copies 16 outputs of one output row of one matrix row, as window_row16 reads
// them. Global size: (out_h * ceil(out_w / 16), channels * taps, batch).
__kernel void im2col(__global const float* x, __global float* col, int channels, int height, int width, int out_h,
                     int out_w, int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_top, int pad_left,
                     int dilation_h, int dilation_w) {
    const int blocks_per_row = (out_w + 15) / 16;
    const int row = get_global_id(0) / blocks_per_row;
    const int col0 = get_global_id(0) % blocks_per_row * 16;
    const int k = get_global_id(1), image = get_global_id(2);
    if (row >= out_h) {
        return; // the global size is rounded up to whole work-groups
    }
    const int taps = kernel_h * kernel_w;
    const int c = k / taps, tap = k - c * taps;
    const int ky = tap / kernel_w, kx = tap - ky * kernel_w;
    const int iy = row * stride_h - pad_top + ky * dilation_h;
    const int count = min(16, out_w - col0);
    const int plane = height * width;
    __global const float* xc = x + ((long) image * channels + c) * plane;
    const float16 v = iy >= 0 && iy < height
            ? window_row16(xc, iy, col0 * stride_w - pad_left + kx * dilation_w, stride_w, width, plane, LANES < count)
            : (float16) 0.0f;
    __global float* out = col + ((long) image * channels * taps + k) * out_h * out_w + row * out_w + col0;
    if (count == 16) {
        vstore16(v, 0, out);
    } else {
        float lanes[16];
        vstore16(v, 0, lanes);
        for (int j = 0; j < count; j++) {
            out[j] = lanes[j];
        }
    }
}

// Depthwise convolution for CPU devices: 16 outputs of one row of one channel per work-item, in
// a float16 vector. Global size: (out_h * ceil(out_w / 16), channels, batch).
__kernel void conv_depthwise_rows(__global const float* x, __global const float* w, __global const float* bias,
                                  int has_bias, __global const float* residual, __global float* y,
                                  int channels, int height, int width, int out_h, int out_w, int kernel_h,
                                  int kernel_w, int stride_h, int stride_w, int pad_top, int pad_left,
                                  int dilation_h, int dilation_w, int4 kinds, float4 alphas, float4 betas) {
    const int blocks_per_row = (out_w + 15) / 16;
    const int row = get_global_id(0) / blocks_per_row;
    const int col0 = get_global_id(0) % blocks_per_row * 16;
    const int c = get_global_id(1), image = get_global_id(2);
    if (row >= out_h) {
        return; // the global size is rounded up to whole work-groups
    }
    const int count = min(16, out_w - col0);
    const int plane = height * width;
    const int16 lane_inside = LANES < count;
    __global const float* xc = x + ((long) image * channels + c) * plane;
    __global const float* wc = w + (long) c * kernel_h * kernel_w;
    float16 acc = has_bias ? bias[c] : 0.0f;
    for (int ky = 0; ky < kernel_h; ky++) {
        const int iy = row * stride_h - pad_top + ky * dilation_h;
        if (iy < 0 || iy >= height) {
            continue;
        }
        for (int kx = 0; kx < kernel_w; kx++) {
            const float16 v = window_row16(xc, iy, col0 * stride_w - pad_left + kx * dilation_w, stride_w, width,
                                           plane, lane_inside);
            acc = fma((float16) wc[ky * kernel_w + kx], v, acc);
        }
    }
    store16(y, acc, ((long) image * channels + c) * out_h * out_w + row * out_w + col0, count, kinds, alphas, betas,
            residual);
}

// Y = alpha * A' B' + beta * C, then the activations: one work-group of REDUCTION items per
// output element, striding over the reduction so neighbouring items read neighbouring weights
// of a fully connected layer. Global size: (columns * REDUCTION, rows).
__kernel __attribute__((reqd_work_group_size(REDUCTION, 1, 1)))
void gemm_dot(__global const float* a, __global const float* b, __global const float* c, int has_c,
              __global float* y, int rows, int cols, int depth, int trans_a, int trans_b,
              int c_row_stride, int c_col_stride, float alpha, float beta,
              int4 kinds, float4 alphas, float4 betas) {
    __local float partial[REDUCTION];
    const int lane = get_local_id(0);
    const int col = get_group_id(0), row = get_global_id(1);
    float sum = 0.0f;
    for (int k = lane; k < depth; k += REDUCTION) {
        const float av = trans_a ? a[(long) k * rows + row] : a[(long) row * depth + k];
        const float bv = trans_b ? b[(long) col * depth + k] : b[(long) k * cols + col];
        sum = fma(av, bv, sum);
    }
    partial[lane] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = REDUCTION / 2; step > 0; step /= 2) {
        if (lane < step) {
            partial[lane] += partial[lane + step];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0) {
        float v = alpha * partial[0];
        if (has_c) {
            v += beta * c[row * c_row_stride + col * c_col_stride];
        }
        y[(long) row * cols + col] = epilogue(v, kinds, alphas, betas, y, 0);
    }
}

// The same product for CPU devices: one work-item per output, the dot product in float16
// vectors when both operands run along the reduction (a fully connected layer: A [rows, depth]
// and B [cols, depth]), else in scalars. Global size: (columns, rows).
__kernel void gemm_vector(__global const float* a, __global const float* b, __global const float* c, int has_c,
                          __global float* y, int rows, int cols, int depth, int trans_a, int trans_b,
                          int c_row_stride, int c_col_stride, float alpha, float beta,
                          int4 kinds, float4 alphas, float4 betas) {
    const int col = get_global_id(0), row = get_global_id(1);
    if (col >= cols) {
        return; // the global size is rounded up to whole work-groups
    }
    float sum = 0.0f;
    if (!trans_a && trans_b) {
        __global const float* pa = a + (long) row * depth;
        __global const float* pb = b + (long) col * depth;
        float16 acc = 0.0f;
        int k = 0;
        for (; k + 16 <= depth; k += 16) {
            acc = fma(vload16(0, pa + k), vload16(0, pb + k), acc);
        }
        for (; k < depth; k++) {
            sum = fma(pa[k], pb[k], sum);
        }
        const float8 h8 = acc.lo + acc.hi;
        const float4 h4 = h8.lo + h8.hi;
        const float2 h2 = h4.lo + h4.hi;
        sum += h2.lo + h2.hi;
    } else {
        for (int k = 0; k < depth; k++) {
            const float av = trans_a ? a[(long) k * rows + row] : a[(long) row * depth + k];
            const float bv = trans_b ? b[(long) col * depth + k] : b[(long) k * cols + col];
            sum = fma(av, bv, sum);
        }
    }
    float v = alpha * sum;
    if (has_c) {
        v += beta * c[row * c_row_stride + col * c_col_stride];
    }
    y[(long) row * cols + col] = epilogue(v, kinds, alphas, betas, y, 0);
}

// Max or average pooling over a window; the padding never wins a max. The average divides by
// the real positions, or with count_include_pad by the window clipped to the explicit padding.
// Global size: (out_w * out_h, batch * channels).
__kernel void pool(__global const float* x, __global float* y, int height, int width, int out_h, int out_w,
                   int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_top, int pad_left,
                   int pad_bottom, int pad_right, int is_max, int count_include_pad) {
    const int p = get_global_id(0), plane = get_global_id(1);
    if (p >= out_h * out_w) {
        return;
    }
    const int oy = p / out_w, ox = p - oy * out_w;
    __global const float* xp = x + (long) plane * height * width;
    const int y0 = oy * stride_h - pad_top, x0 = ox * stride_w - pad_left;
    const int y1 = min(y0 + kernel_h, height + pad_bottom), x1 = min(x0 + kernel_w, width + pad_right);
    float acc = is_max ? -INFINITY : 0.0f;
    int count = 0;
    for (int iy = max(y0, 0); iy < min(y1, height); iy++) {
        for (int ix = max(x0, 0); ix < min(x1, width); ix++) {
            const float v = xp[iy * width + ix];
            acc = is_max ? fmax(acc, v) : acc + v;
            count++;
        }
    }
    if (!is_max) {
        acc /= (float) (count_include_pad ? (y1 - y0) * (x1 - x0) : count);
    }
    y[(long) plane * out_h * out_w + p] = acc;
}

// Mean or max over each plane. Global size: (batch * channels).
__kernel void global_pool(__global const float* x, __global float* y, int spatial, int is_max) {
    const int plane = get_global_id(0);
    __global const float* xp = x + (long) plane * spatial;
    float acc = is_max ? -INFINITY : 0.0f;
    for (int i = 0; i < spatial; i++) {
        acc = is_max ? fmax(acc, xp[i]) : acc + xp[i];
    }
    y[plane] = is_max ? acc : acc / (float) spatial;
}

// Squeeze-and-excitation, step 2 and 3: a 1x1 convolution of a 1x1 image with an activation.
// out[n][m] = f(bias[m] + sum_c w[m][c] * in[n][c]). Global size: (outputs, batch).
__kernel void pointwise_vector(__global const float* in, __global const float* w, __global const float* bias,
                               int has_bias, __global float* out, int inputs, int outputs,
                               int4 kinds, float4 alphas, float4 betas) {
    const int m = get_global_id(0), image = get_global_id(1);
    __global const float* v = in + (long) image * inputs;
    __global const float* wm = w + (long) m * inputs;
    float sum = has_bias ? bias[m] : 0.0f;
    for (int c = 0; c < inputs; c++) {
        sum = fma(wm[c], v[c], sum);
    }
    out[(long) image * outputs + m] = epilogue(sum, kinds, alphas, betas, out, 0);
}

// Each plane scaled by its own factor: y[plane][i] = x[plane][i] * scale[plane]. Global size:
// (spatial, batch * channels).
__kernel void scale_planes(__global const float* x, __global const float* scale, __global float* y, int spatial) {
    const int i = get_global_id(0), plane = get_global_id(1);
    if (i < spatial) {
        const long index = (long) plane * spatial + i;
        y[index] = x[index] * scale[plane];
    }
}

// Inference batch-norm: y = (x - mean[c]) * scale[c] / sqrt(var[c] + epsilon) + bias[c]. Global
// size: (spatial, batch * channels).
__kernel void batch_norm(__global const float* x, __global const float* scale, __global const float* bias,
                         __global const float* mean, __global const float* var, __global float* y, int channels,
                         int spatial, float epsilon) {
    const int i = get_global_id(0), plane = get_global_id(1);
    if (i < spatial) {
        const int c = plane % channels;
        const long index = (long) plane * spatial + i;
        y[index] = (x[index] - mean[c]) * (scale[c] / sqrt(var[c] + epsilon)) + bias[c];
    }
}

// Standalone activation. Global size: (count).
__kernel void activation(__global const float* x, __global float* y, int count, int4 kinds, float4 alphas,
                         float4 betas) {
    const int i = get_global_id(0);
    if (i < count) {
        y[i] = epilogue(x[i], kinds, alphas, betas, x, 0);
    }
}

// Elementwise binary op with broadcasting over up to four axes: dims of the output, and per
// operand a stride per axis (0 where it is broadcast). Kinds as Binary.Kind orders them.
// Global size: (count).
__kernel void binary(__global const float* a, __global const float* b, __global float* y, int count, int kind,
                     int4 dims, int4 a_strides, int4 b_strides) {
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    int rest = i;
    const int i3 = rest % dims.s3; rest /= dims.s3;
    const int i2 = rest % dims.s2; rest /= dims.s2;
    const int i1 = rest % dims.s1; rest /= dims.s1;
    const int i0 = rest;
    const float av = a[i0 * a_strides.s0 + i1 * a_strides.s1 + i2 * a_strides.s2 + i3 * a_strides.s3];
    const float bv = b[i0 * b_strides.s0 + i1 * b_strides.s1 + i2 * b_strides.s2 + i3 * b_strides.s3];
    float v;
    switch (kind) {
        case 0: v = av + bv; break;
        case 1: v = av - bv; break;
        case 2: v = av * bv; break;
        case 3: v = av / bv; break;
        case 4: v = fmax(av, bv); break;
        default: v = fmin(av, bv); break;
    }
    y[i] = v;
}

// One concat input into its place: y[o][offset + i] = x[o][i] for each of `outer` blocks.
// Global size: (block, outer).
__kernel void copy_blocks(__global const float* x, __global float* y, int block, int out_block, int offset) {
    const int i = get_global_id(0), o = get_global_id(1);
    if (i < block) {
        y[(long) o * out_block + offset + i] = x[(long) o * block + i];
    }
}

// Softmax along an axis of `length` elements `inner` apart. Global size: (inner, outer).
__kernel void softmax(__global const float* x, __global float* y, int length, int inner) {
    const int i = get_global_id(0), o = get_global_id(1);
    const long base = (long) o * length * inner + i;
    float max_value = -INFINITY;
    for (int k = 0; k < length; k++) {
        max_value = fmax(max_value, x[base + (long) k * inner]);
    }
    float sum = 0.0f;
    for (int k = 0; k < length; k++) {
        const float e = exp(x[base + (long) k * inner] - max_value);
        y[base + (long) k * inner] = e;
        sum += e;
    }
    for (int k = 0; k < length; k++) {
        y[base + (long) k * inner] /= sum;
    }
}
