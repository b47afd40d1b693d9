/*
 * Kiln's kernels (one form) against oneDNN's own path for the same work, on one OpenMP thread,
 * the minimum of N runs each (robust on a shared host: preemption only ever adds time). This is
 * how NativeKernels.Isa's choice of kernels per instruction set was measured; run it through
 * kernels_vs_onednn.sh, with ONEDNN_MAX_CPU_ISA=AVX2 to compare the AVX2 forms:
 *   swish       EfficientNet-B0's convolutions that end with swish on >= 16384 outputs: the
 *               convolution with oneDNN's swish post-op, against it without, then Kiln's pass
 *   means       EfficientNet-B0's depthwise convolutions that a squeeze-excitation reads: the
 *               convolution with oneDNN's swish post-op and oneDNN's global average pooling,
 *               against it without, then kiln_swish_channel_means
 *   winograd    ResNet's 3x3 convolutions with relu: oneDNN's direct convolution, against Kiln's
 *               input transform, oneDNN's batched matmul and Kiln's output transform
 *   vgg         the same for VGG-16's 3x3 convolutions, whose transformed operands (3.2 to 51 MB)
 *               outgrow the caches: where the last level cache ends Winograd's win
 *   se          EfficientNet-B0's seven excitations (SiLU, then a sigmoid gate): oneDNN's two 1x1
 *               convolutions on one pixel, against kiln_squeeze_excitation
 */
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dlfcn.h>

#define CHECK(x) do { dnnl_status_t s_ = (x); if (s_) { fprintf(stderr, "%s: %d line %d\n", #x, s_, __LINE__); exit(1);} } while (0)
typedef struct { long batch, height, width, channels, out_height, out_width, pad_top, pad_left, tiles_down, tiles_across; } wshape;
static void (*k_swish)(float *, long);
static void (*k_means)(float *, long, long, float *);
static void (*k_win_in)(const float *, float *, const wshape *);
static void (*k_win_out)(const float *, float *, const float *, const float *, float, float, const wshape *, long);
static void (*k_se)(const float *, const float *, const float *, const float *, const float *, float *, long, long, long, const float *);
static dnnl_engine_t eng; static dnnl_stream_t strm;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int REPS = 300;
static float *buf(size_t bytes) { float *p = aligned_alloc(64, (bytes + 63) / 64 * 64); for (size_t i = 0; i < bytes / 4; i++) p[i] = (float) ((i * 7919 % 1000) / 500.0 - 1.0); return p; }
typedef struct { dnnl_primitive_t p; int n; dnnl_exec_arg_t args[6]; } prim;
static dnnl_memory_t mem(const_dnnl_memory_desc_t md, float **data) {
    dnnl_memory_t m; size_t sz = dnnl_memory_desc_get_size(md); *data = buf(sz ? sz : 4);
    CHECK(dnnl_memory_create(&m, md, eng, *data)); return m;
}
static const_dnnl_memory_desc_t q(dnnl_primitive_desc_t pd, dnnl_query_t what) { return dnnl_primitive_desc_query_md(pd, what, 0); }
static void add_scratch(dnnl_primitive_desc_t pd, prim *pr) {
    const_dnnl_memory_desc_t s = q(pd, dnnl_query_scratchpad_md); float *d;
    if (s && dnnl_memory_desc_get_size(s)) { pr->args[pr->n].arg = DNNL_ARG_SCRATCHPAD; pr->args[pr->n++].memory = mem(s, &d); }
}
static void run(prim *p) { CHECK(dnnl_primitive_execute(p->p, strm, p->n, p->args)); CHECK(dnnl_stream_wait(strm)); }
/* 1x1 or kxk convolution, channels-last, optional eltwise post-op; returns prim, dst data */
static prim conv(long ic, long oc, long h, long w, long k, long stride, long groups, int alg, float alpha, float **dst) {
    dnnl_memory_desc_t src, wei, dstd; long oh = (h + 2 * (k / 2) - k) / stride + 1, ow = (w + 2 * (k / 2) - k) / stride + 1;
    dnnl_dims_t sd = {1, ic, h, w}, dd = {1, oc, oh, ow};
    CHECK(dnnl_memory_desc_create_with_tag(&src, 4, sd, dnnl_f32, dnnl_acdb));
    CHECK(dnnl_memory_desc_create_with_tag(&dstd, 4, dd, dnnl_f32, dnnl_acdb));
    if (groups > 1) { dnnl_dims_t wd = {groups, oc / groups, ic / groups, k, k}; CHECK(dnnl_memory_desc_create_with_tag(&wei, 5, wd, dnnl_f32, dnnl_format_tag_any)); }
    else { dnnl_dims_t wd = {oc, ic, k, k}; CHECK(dnnl_memory_desc_create_with_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any)); }
    dnnl_primitive_attr_t attr; CHECK(dnnl_primitive_attr_create(&attr));
    if (alg) { dnnl_post_ops_t po; CHECK(dnnl_post_ops_create(&po)); CHECK(dnnl_post_ops_append_eltwise(po, alg, alpha, 0)); CHECK(dnnl_primitive_attr_set_post_ops(attr, po)); }
    dnnl_dims_t st = {stride, stride}, dl = {0, 0}, pl = {k / 2, k / 2};
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, src, wei, NULL, dstd, st, dl, pl, pl, attr));
    prim p = {0}; CHECK(dnnl_primitive_create(&p.p, pd)); float *d;
    p.args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, mem(q(pd, dnnl_query_src_md), &d)};
    p.args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(q(pd, dnnl_query_weights_md), &d)};
    p.args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, mem(q(pd, dnnl_query_dst_md), dst)}; p.n = 3; add_scratch(pd, &p);
    const char *impl; dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    if (getenv("VERBOSE")) fprintf(stderr, "  conv %ld->%ld %ldx%ld k%ld impl %s\n", ic, oc, h, w, k, impl);
    return p;
}
/* global average pooling of a channels-last [1, c, h, w] image into [1, c, 1, 1], reading src */
static prim mean_pool(long c, long h, long w, dnnl_memory_t src) {
    dnnl_memory_desc_t s, d; dnnl_dims_t sd = {1, c, h, w}, dd = {1, c, 1, 1};
    CHECK(dnnl_memory_desc_create_with_tag(&s, 4, sd, dnnl_f32, dnnl_acdb));
    CHECK(dnnl_memory_desc_create_with_tag(&d, 4, dd, dnnl_f32, dnnl_format_tag_any));
    dnnl_dims_t st = {1, 1}, k = {h, w}, dl = {0, 0}, pad = {0, 0};
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_pooling_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_pooling_avg_include_padding,
                                                     s, d, st, k, dl, pad, pad, NULL));
    prim p = {0}; CHECK(dnnl_primitive_create(&p.p, pd)); float *x;
    p.args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src};
    p.args[1] = (dnnl_exec_arg_t){DNNL_ARG_DST, mem(q(pd, dnnl_query_dst_md), &x)}; p.n = 2; add_scratch(pd, &p);
    return p;
}
static prim matmul(long batch, long m, long k, long n) {
    dnnl_memory_desc_t a, b, c; dnnl_dims_t ad = {batch, m, k}, bd = {batch, k, n}, cd = {batch, m, n};
    CHECK(dnnl_memory_desc_create_with_tag(&a, 3, ad, dnnl_f32, dnnl_abc));
    CHECK(dnnl_memory_desc_create_with_tag(&b, 3, bd, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_create_with_tag(&c, 3, cd, dnnl_f32, dnnl_abc));
    dnnl_primitive_desc_t pd; CHECK(dnnl_matmul_primitive_desc_create(&pd, eng, a, b, NULL, c, NULL));
    prim p = {0}; CHECK(dnnl_primitive_create(&p.p, pd)); float *d;
    p.args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, mem(q(pd, dnnl_query_src_md), &d)};
    p.args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(q(pd, dnnl_query_weights_md), &d)};
    p.args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, mem(q(pd, dnnl_query_dst_md), &d)}; p.n = 3; add_scratch(pd, &p);
    return p;
}
#define TIME(var, body) do { double best = 1e30; for (int rep_ = 0; rep_ < REPS; rep_++) { double t0 = now(); body; double t = now() - t0; if (t < best) best = t; } var = best; } while (0)

/* kernels_vs_onednn <libkiln-onednn-kernels.so> <avx2|avx512> <swish|means|winograd|vgg|se> [runs] */
int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s <libkiln-onednn-kernels.so> <avx2|avx512> <swish|means|winograd|vgg|se> [runs]\n", argv[0]); return 2; }
    void *lib = dlopen(argv[1], RTLD_NOW); if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    const char *isa = argv[2]; char name[128];
#define BIND(v, f) snprintf(name, sizeof name, "%s_%s", f, isa); v = dlsym(lib, name); if (!v) { fprintf(stderr, "no %s\n", name); return 1; }
    BIND(k_swish, "kiln_swish"); BIND(k_means, "kiln_swish_channel_means"); BIND(k_win_in, "kiln_winograd_input"); BIND(k_win_out, "kiln_winograd_output"); BIND(k_se, "kiln_squeeze_excitation");
    const char *what = argv[3]; if (argc > 4) REPS = atoi(argv[4]);
    if (strcmp(what, "swish") && strcmp(what, "means") && strcmp(what, "winograd") && strcmp(what, "vgg") && strcmp(what, "se")) { fprintf(stderr, "swish, means, winograd, vgg or se?\n"); return 2; }
    omp_set_num_threads(1);
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CHECK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
    printf("oneDNN ISA 0x%x, Kiln form %s, 1 thread, min of %d\n", dnnl_get_effective_cpu_isa(), isa, REPS);
    if (!strcmp(what, "swish")) {
        /* EfficientNet-B0's convolutions with swish on >= 16384 outputs: expansions, depthwise, head */
        /* in and out channels, input height and width, kernel, groups, stride */
        long shapes[][7] = {{32, 32, 112, 112, 3, 32, 1}, {16, 96, 112, 112, 1, 1, 1}, {96, 96, 112, 112, 3, 96, 2},
                            {24, 144, 56, 56, 1, 1, 1}, {144, 144, 56, 56, 5, 144, 2}, {40, 240, 28, 28, 1, 1, 1},
                            {80, 480, 14, 14, 1, 1, 1}, {112, 672, 14, 14, 1, 1, 1}, {192, 1152, 7, 7, 1, 1, 1},
                            {320, 1280, 7, 7, 1, 1, 1}};
        double tp = 0, tk = 0;
        for (int i = 0; i < 10; i++) {
            long *s = shapes[i]; long stride = s[6];
            float *d1, *d2; prim a = conv(s[0], s[1], s[2], s[3], s[4], stride, s[5], dnnl_eltwise_swish, 1.f, &d1);
            prim b = conv(s[0], s[1], s[2], s[3], s[4], stride, s[5], 0, 0, &d2);
            long oh = (s[2] + 2 * (s[4] / 2) - s[4]) / stride + 1, count = s[1] * oh * oh;
            double x, y; run(&a); run(&b);
            TIME(x, run(&a)); TIME(y, (run(&b), k_swish(d2, count)));
            double z; TIME(z, run(&b));
            printf("swish %4ld->%4ld %3ldx%-3ld k%ld g%-4ld: oneDNN post-op %8.1f us, conv + Kiln %8.1f us (conv alone %8.1f) %+.1f%%\n",
                   s[0], s[1], s[2], s[3], s[4], s[5], x, y, z, (y / x - 1) * 100);
            tp += x; tk += y;
        }
        printf("swish total: oneDNN %.1f us, Kiln %.1f us, %+.1f%%\n", tp, tk, (tk / tp - 1) * 100);
    } else if (!strcmp(what, "means")) {
        /* EfficientNet-B0's depthwise convolutions with swish that a squeeze-excitation reads:
         * channels, input size, kernel, stride */
        long shapes[][4] = {{32, 112, 3, 1}, {96, 112, 3, 2}, {144, 56, 3, 1}, {144, 56, 5, 2}, {240, 28, 5, 1},
                            {240, 28, 3, 2}, {480, 14, 3, 1}, {480, 14, 5, 1}, {672, 14, 5, 1}, {672, 14, 5, 2},
                            {1152, 7, 5, 1}, {1152, 7, 3, 1}};
        double tp = 0, tk = 0;
        for (int i = 0; i < 12; i++) {
            long c = shapes[i][0], h = shapes[i][1], k = shapes[i][2], stride = shapes[i][3];
            long oh = (h + 2 * (k / 2) - k) / stride + 1;
            float *d1, *d2; prim a = conv(c, c, h, h, k, stride, c, dnnl_eltwise_swish, 1.f, &d1);
            prim b = conv(c, c, h, h, k, stride, c, 0, 0, &d2);
            prim pool = mean_pool(c, oh, oh, a.args[2].memory);
            float *means = buf(c * 4);
            double x, y, z; run(&a); run(&b); run(&pool);
            TIME(x, (run(&a), run(&pool))); TIME(y, (run(&b), k_means(d2, oh * oh, c, means)));
            TIME(z, run(&b));
            printf("means %4ld ch %3ldx%-3ld k%ld s%ld: oneDNN post-op + pooling %8.1f us, conv + Kiln %8.1f us (conv alone %8.1f) %+.1f%%\n",
                   c, h, h, k, stride, x, y, z, (y / x - 1) * 100);
            tp += x; tk += y;
        }
        printf("means total: oneDNN %.1f us, Kiln %.1f us, %+.1f%%\n", tp, tk, (tk / tp - 1) * 100);
    } else if (!strcmp(what, "winograd") || !strcmp(what, "vgg")) {
        /* 3x3 stride-1 convolutions with relu: channels, size; ResNet's, or VGG-16's */
        long resnet[][2] = {{64, 56}, {128, 28}, {256, 14}, {512, 7}};
        long vgg[][2] = {{64, 224}, {128, 112}, {256, 56}, {512, 28}, {512, 14}};
        int count = !strcmp(what, "vgg") ? 5 : 4;
        long (*shapes)[2] = !strcmp(what, "vgg") ? vgg : resnet;
        double tp = 0, tk = 0;
        for (int i = 0; i < count; i++) {
            long c = shapes[i][0], h = shapes[i][1];
            float *dd; prim direct = conv(c, c, h, h, 3, 1, 1, dnnl_eltwise_relu, 0, &dd);
            wshape ws = {1, h, h, c, h, h, 1, 1, (h + 1) / 2, (h + 1) / 2}; long tiles = ws.tiles_down * ws.tiles_across;
            prim mm = matmul(16, tiles, c, c);
            float *src = buf(h * h * c * 4), *dst = buf(h * h * c * 4), *bias = buf(c * 4);
            void *v, *mh; /* the matmul's own source and destination buffers */
            dnnl_memory_get_data_handle(mm.args[0].memory, &v); dnnl_memory_get_data_handle(mm.args[2].memory, &mh);
            double x, y; run(&direct);
            TIME(x, run(&direct));
            TIME(y, (k_win_in(src, v, &ws), run(&mm), k_win_out(mh, dst, bias, NULL, 0, 1e30f, &ws, c)));
            double ti, to, tm; TIME(ti, k_win_in(src, v, &ws)); TIME(tm, run(&mm)); TIME(to, k_win_out(mh, dst, bias, NULL, 0, 1e30f, &ws, c));
            printf("winograd %3ld ch %3ldx%-3ld (V %5.1f MB): oneDNN direct %8.1f us, Winograd %8.1f us (in %.1f, matmul %.1f, out %.1f) %+.1f%%\n",
                   c, h, h, 16.0 * tiles * c * 4 / 1e6, x, y, ti, tm, to, (y / x - 1) * 100);
            tp += x; tk += y;
        }
        printf("winograd total: oneDNN %.1f us, Kiln %.1f us, %+.1f%%\n", tp, tk, (tk / tp - 1) * 100);
    } else {
        long shapes[][2] = {{32, 8}, {96, 4}, {144, 6}, {240, 10}, {480, 20}, {672, 28}, {1152, 48}};
        double tp = 0, tk = 0;
        for (int i = 0; i < 7; i++) {
            long c = shapes[i][0], r = shapes[i][1];
            float *d; prim s1 = conv(c, r, 1, 1, 1, 1, 1, dnnl_eltwise_swish, 1.f, &d), s2 = conv(r, c, 1, 1, 1, 1, 1, dnnl_eltwise_logistic, 0, &d);
            float *means = buf(c * 4), *w1 = buf(r * c * 4), *b1 = buf(r * 4), *w2t = buf(r * c * 4), *b2 = buf(c * 4), *gate = buf(c * 4);
            float act[6] = {3, 0, 0, 2, 0, 0};
            double x, y; run(&s1); run(&s2);
            TIME(x, (run(&s1), run(&s2))); TIME(y, k_se(means, w1, b1, w2t, b2, gate, 1, c, r, act));
            printf("excitation %4ld -> %2ld: oneDNN two convolutions %6.1f us, Kiln %6.1f us %+.1f%%\n", c, r, x, y, (y / x - 1) * 100);
            tp += x; tk += y;
        }
        printf("excitation total: oneDNN %.1f us, Kiln %.1f us, %+.1f%%\n", tp, tk, (tk / tp - 1) * 100);
    }
    return 0;
}
