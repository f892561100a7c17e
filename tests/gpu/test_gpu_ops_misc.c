/* test_gpu_ops_misc.c - the other CUDA ops against the CPU ops: elementwise (SiLU, add,
 * broadcast add/mul), layout (concat, upsample, avg/max pool, NCHW<->NHWC), embeddings,
 * dropout, the losses, the optimizer passes (optim_cuda.h), and a label out of range dying
 * with the CPU op's message (in a child forked before this process touches CUDA).
 * Tolerances (norm-wise, gpu_test.h): data movement, pooling indices, embeddings and dropout
 * are BITWISE equal (dropout: same keyed Philox, no fused multiply-add); SiLU (device expf vs
 * the CPU's polynomial) and the time embedding RT_EW = 1e-6; sums (broadcast gradient, pools,
 * losses) RT_SUM = 1e-6; loss values 1e-10 and the gradient norm 1e-9 relative (double sums in
 * another order); Adam/EMA RT_EW.
 * Exit 77 when no GPU is visible. */
#include "../tf_child.h"
#include "gpu_test.h"
#include "optim/optim_cuda.h"

#define RT_EW 1e-6
#define RT_SUM 1e-6

static void test_elementwise(void) {
    const int B = 3, C = 40, N = 77;
    const size_t n = (size_t)B * N * C;
    float *x = hrand(n, 1, 6.0f), *v = hrand((size_t)B * C, 2, 1.0f), *dy = hrand(n, 3, 1.0f), *pre = hrand(n, 4, 1.0f);
    float *a2 = hrand(n, 5, 1.0f), *y = hnew(n), *dx = hnew(n), *dv = hrand((size_t)B * C, 6, 1.0f);
    float *gx = dcopy(x, n), *gv = dcopy(v, (size_t)B * C), *gdy = dcopy(dy, n), *ga2 = dcopy(a2, n), *gy = dnew(n);
    float *gdx = dnew(n), *gdv = dnew((size_t)B * C), *gdx2 = dnew(n);
    tf_silu_fwd(n, x, y); tf_silu_fwd_cuda(n, gx, gy);
    cmp_dev("silu y", gy, y, n, RT_EW);
    memcpy(dx, pre, n * sizeof(float)); dput(gdx, pre, n);
    tf_silu_bwd(n, x, dy, dx, 1); tf_silu_bwd_cuda(n, gx, gdy, gdx, 1);
    cmp_dev("silu dx acc", gdx, dx, n, RT_EW);
    tf_add_fwd(n, x, a2, y); tf_add_fwd_cuda(n, gx, ga2, gy);
    cmp_dev_exact("add y", gy, y, n, sizeof(float));
    float *da = hnew(n), *db = hnew(n);
    memcpy(db, pre, n * sizeof(float)); dput(gdx2, pre, n); dpoison(gdx, n);
    tf_add_bwd(n, dy, da, 0, db, 1); tf_add_bwd_cuda(n, gdy, gdx, 0, gdx2, 1);
    cmp_dev_exact("add da (overwrite)", gdx, da, n, sizeof(float));
    cmp_dev_exact("add db (acc)", gdx2, db, n, sizeof(float));
    for (int mul = 0; mul < 2; mul++)
        for (int acc = 0; acc < 2; acc++) {
            char w[64];
            tf_bcast_fwd(B, C, N, mul, x, v, y); tf_bcast_fwd_cuda(B, C, N, mul, gx, gv, gy);
            snprintf(w, sizeof w, "bcast %s y", mul ? "mul" : "add"); cmp_dev_exact(w, gy, y, n, sizeof(float));
            float *dv0 = hrand((size_t)B * C, 7, 1.0f);
            memcpy(dx, pre, n * sizeof(float)); memcpy(dv, dv0, (size_t)B * C * sizeof(float));
            dput(gdx, pre, n); dput(gdv, dv0, (size_t)B * C);
            if (!acc) { dpoison(gdx, n); dpoison(gdv, (size_t)B * C); }
            tf_bcast_bwd(B, C, N, mul, x, v, dy, dx, acc, dv, acc);
            tf_bcast_bwd_cuda(B, C, N, mul, gx, gv, gdy, gdx, acc, gdv, acc);
            snprintf(w, sizeof w, "bcast %s dx%s", mul ? "mul" : "add", acc ? " acc" : "");
            cmp_dev(w, gdx, dx, n, RT_SUM);
            snprintf(w, sizeof w, "bcast %s dv%s", mul ? "mul" : "add", acc ? " acc" : "");
            cmp_dev(w, gdv, dv, (size_t)B * C, RT_SUM);
            free(dv0);
        }
    free(x); free(v); free(dy); free(pre); free(a2); free(y); free(dx); free(dv); free(da); free(db);
    dfree(gx); dfree(gv); dfree(gdy); dfree(ga2); dfree(gy); dfree(gdx); dfree(gdv); dfree(gdx2);
}

static void test_layout(void) {
    const int B = 2, Ca = 5, Cb = 3, H = 6, W = 7, N = H * W;
    const size_t na = (size_t)B * N * Ca, nb = (size_t)B * N * Cb, nc = na + nb;
    float *a = hrand(na, 11, 1.0f), *b = hrand(nb, 12, 1.0f), *dyc = hrand(nc, 13, 1.0f);
    float *y = hnew(4 * na), *da = hrand(na, 14, 1.0f), *db = hnew(nb);
    float *ga = dcopy(a, na), *gb = dcopy(b, nb), *gdyc = dcopy(dyc, nc), *gy = dnew(4 * na);
    float *gda = dcopy(da, na), *gdb = dnew(nb);
    tf_concat_fwd(B, Ca, Cb, N, a, b, y); tf_concat_fwd_cuda(B, Ca, Cb, N, ga, gb, gy);
    cmp_dev_exact("concat y", gy, y, nc, sizeof(float));
    dpoison(gdb, nb);
    tf_concat_bwd(B, Ca, Cb, N, dyc, da, 1, db, 0); tf_concat_bwd_cuda(B, Ca, Cb, N, gdyc, gda, 1, gdb, 0);
    cmp_dev_exact("concat da acc", gda, da, na, sizeof(float));
    cmp_dev_exact("concat db", gdb, db, nb, sizeof(float));
    /* upsample x2 of a [B, H, W, Ca] map */
    float *dyu = hrand(4 * na, 15, 1.0f), *gdyu = dcopy(dyu, 4 * na);
    tf_upsample2_fwd(B, Ca, H, W, a, y); tf_upsample2_fwd_cuda(B, Ca, H, W, ga, gy);
    cmp_dev_exact("upsample2 y", gy, y, 4 * na, sizeof(float));
    dpoison(gda, na);
    tf_upsample2_bwd(B, Ca, H, W, dyu, da, 0); tf_upsample2_bwd_cuda(B, Ca, H, W, gdyu, gda, 0);
    cmp_dev_exact("upsample2 dx", gda, da, na, sizeof(float));
    /* pools 2x2/2 and 3x3/1 (overlapping windows); max pool on a permutation so ties cannot occur */
    float *xm = hnew(na);
    for (size_t i = 0; i < na; i++) xm[i] = 0.1f * (float)((i * 37) % na);
    float *gxm = dcopy(xm, na);
    for (int cfg = 0; cfg < 2; cfg++) {
        const int K = cfg ? 3 : 2, S = cfg ? 1 : 2, Ho = (H - K) / S + 1, Wo = (W - K) / S + 1;
        const size_t no = (size_t)B * Ho * Wo * Ca;
        int32_t *idx = calloc(no, sizeof(int32_t)), *gidx = (int32_t *)g_be->alloc(no * sizeof(int32_t));
        char w[64];
        tf_avgpool_fwd(B, Ca, H, W, K, S, a, y); tf_avgpool_fwd_cuda(B, Ca, H, W, K, S, ga, gy);
        snprintf(w, sizeof w, "avgpool%d s%d y", K, S); cmp_dev(w, gy, y, no, RT_SUM);
        memcpy(da, a, na * sizeof(float)); dput(gda, a, na);
        tf_avgpool_bwd(B, Ca, H, W, K, S, dyu, da, 1); tf_avgpool_bwd_cuda(B, Ca, H, W, K, S, gdyu, gda, 1);
        snprintf(w, sizeof w, "avgpool%d s%d dx acc", K, S); cmp_dev(w, gda, da, na, RT_SUM);
        tf_maxpool_fwd(B, Ca, H, W, K, S, xm, y, idx); tf_maxpool_fwd_cuda(B, Ca, H, W, K, S, gxm, gy, gidx);
        snprintf(w, sizeof w, "maxpool%d s%d y", K, S); cmp_dev_exact(w, gy, y, no, sizeof(float));
        snprintf(w, sizeof w, "maxpool%d s%d argmax", K, S); cmp_dev_exact(w, gidx, idx, no, sizeof(int32_t));
        dpoison(gda, na);
        tf_maxpool_bwd(B, Ca, H, W, K, S, idx, dyu, da, 0); tf_maxpool_bwd_cuda(B, Ca, H, W, K, S, gidx, gdyu, gda, 0);
        snprintf(w, sizeof w, "maxpool%d s%d dx", K, S); cmp_dev_exact(w, gda, da, na, sizeof(float));
        free(idx);
        dfree(gidx);
    }
    /* NCHW <-> NHWC, overwrite and accumulate, with sizes that are not multiples of the tile */
    const int Cl = 35, Nl = 67;
    const size_t nl = (size_t)B * Cl * Nl;
    float *xl = hrand(nl, 16, 1.0f), *yl = hrand(nl, 17, 1.0f), *gxl = dcopy(xl, nl), *gyl = dcopy(yl, nl);
    tf_nchw_to_nhwc(B, Cl, Nl, xl, yl, 1); tf_nchw_to_nhwc_cuda(B, Cl, Nl, gxl, gyl, 1);
    cmp_dev_exact("nchw_to_nhwc acc", gyl, yl, nl, sizeof(float));
    dpoison(gyl, nl);
    tf_nhwc_to_nchw(B, Cl, Nl, xl, yl, 0); tf_nhwc_to_nchw_cuda(B, Cl, Nl, gxl, gyl, 0);
    cmp_dev_exact("nhwc_to_nchw", gyl, yl, nl, sizeof(float));
    free(a); free(b); free(dyc); free(y); free(da); free(db); free(dyu); free(xm); free(xl); free(yl);
    dfree(ga); dfree(gb); dfree(gdyc); dfree(gy); dfree(gda); dfree(gdb); dfree(gdyu); dfree(gxm); dfree(gxl); dfree(gyl);
}

static void test_embed_dropout(void) {
    const int B = 6, D = 129, rows = 11;
    float t[6] = {0.0f, 0.25f, 0.5f, 0.9f, 1.0f, 0.001f}, *e = hnew((size_t)B * D), *gt = dcopy(t, 6);
    float *ge = dnew((size_t)B * D);
    tf_timestep_embed_fwd(B, D, 1000.0f, 10000.0f, t, e); tf_timestep_embed_fwd_cuda(B, D, 1000.0f, 10000.0f, gt, ge);
    cmp_dev("timestep embedding (odd D)", ge, e, (size_t)B * D, RT_EW);
    int32_t lab[6] = {4, 1, 4, 10, 0, 4};
    int32_t *glab = (int32_t *)g_be->alloc(sizeof lab);
    g_be->upload(glab, lab, sizeof lab);
    float *tab = hrand((size_t)rows * D, 21, 1.0f), *dout = hrand((size_t)B * D, 22, 1.0f), *dt = hrand((size_t)rows * D, 23, 1.0f);
    float *gtab = dcopy(tab, (size_t)rows * D), *gdout = dcopy(dout, (size_t)B * D), *gdt = dcopy(dt, (size_t)rows * D);
    tf_embedding_fwd(B, D, rows, lab, tab, e); tf_embedding_fwd_cuda(B, D, rows, glab, gtab, ge);
    cmp_dev_exact("embedding out", ge, e, (size_t)B * D, sizeof(float));
    tf_embedding_bwd(B, D, rows, lab, dout, dt); tf_embedding_bwd_cuda(B, D, rows, glab, gdout, gdt);
    cmp_dev_exact("embedding dtable (repeated labels)", gdt, dt, (size_t)rows * D, sizeof(float));
    /* dropout: 3 samples x 1001 elements, odd salt offset so Philox blocks straddle samples */
    const int Bd = 3;
    const size_t per = 1001, nd = Bd * per;
    float *x = hrand(nd, 31, 1.0f), *y = hnew(nd), *d2 = hrand(nd, 32, 1.0f), *gx = dcopy(x, nd), *gy = dnew(nd);
    float *gd2 = dcopy(d2, nd);
    for (int k = 0; k < 2; k++) {
        float p = k ? 0.5f : 0.1f;
        uint64_t seed = k ? 0x123456789abcdefull : 7, step = k ? (1ull << 33) + 5 : 11, s0 = k ? (1ull << 32) + 3 : 100;
        tf_dropout_fwd(Bd, per, p, seed, step, s0, 3, x, y); tf_dropout_fwd_cuda(Bd, per, p, seed, step, s0, 3, gx, gy);
        cmp_dev_exact(k ? "dropout p=0.5 (64-bit keys) y" : "dropout p=0.1 y", gy, y, nd, sizeof(float));
        tf_dropout_bwd(Bd, per, p, seed, step, s0, 3, x, d2, 1); tf_dropout_bwd_cuda(Bd, per, p, seed, step, s0, 3, gx, gd2, 1);
        cmp_dev_exact("dropout dx acc", gd2, d2, nd, sizeof(float));
    }
    free(e); free(tab); free(dout); free(dt); free(x); free(y); free(d2);
    dfree(gt); dfree(ge); dfree(glab); dfree(gtab); dfree(gdout); dfree(gdt); dfree(gx); dfree(gy); dfree(gd2);
}

static double dget(const double *d) {
    double h = 0;
    g_be->download(&h, d, sizeof h);
    return h;
}

static void test_losses_optim(void) {
    const size_t n = 100003;
    float *p = hrand(n, 41, 2.0f), *t = hrand(n, 42, 2.0f), *dp = hrand(n, 43, 1.0f);
    float *gp = dcopy(p, n), *gt = dcopy(t, n), *gdp = dcopy(dp, n);
    double *dl = (double *)g_be->alloc(sizeof(double)), *part = (double *)g_be->alloc(512 * sizeof(double));
    double l = tf_mse_fwd(n, p, t, 2.0 * n);
    tf_mse_fwd_cuda(n, gp, gt, 2.0 * n, dl, part, 0);
    tf_mse_fwd_cuda(n, gp, gt, 2.0 * n, dl, part, 1); /* acc: twice the loss */
    double gl = dget(dl);
    CHECK_MSG(fabs(gl - 2 * l) <= 1e-10 * fabs(l), "mse: gpu %.17g vs 2 x cpu %.17g", gl, 2 * l);
    printf("  %-44s gpu %.15g cpu x2 %.15g\n", "mse loss (acc twice)", gl, 2 * l);
    tf_mse_bwd(n, p, t, 2.0 * n, dp, 1); tf_mse_bwd_cuda(n, gp, gt, 2.0 * n, gdp, 1);
    cmp_dev("mse dpred acc", gdp, dp, n, RT_EW);
    const int B = 37, K = 10;
    int32_t lab[37];
    for (int b = 0; b < B; b++) lab[b] = (b * 7) % K;
    int32_t *glab = (int32_t *)g_be->alloc(sizeof lab);
    g_be->upload(glab, lab, sizeof lab);
    float *pr = hnew((size_t)B * K), *gpr = dnew((size_t)B * K);
    l = tf_xent_fwd(B, K, p, lab, pr, B);
    tf_xent_fwd_cuda(B, K, gp, glab, gpr, B, dl, part, 0);
    gl = dget(dl);
    CHECK_MSG(fabs(gl - l) <= 1e-10 * fabs(l), "xent: gpu %.17g vs cpu %.17g", gl, l);
    printf("  %-44s gpu %.15g cpu %.15g\n", "softmax xent loss", gl, l);
    cmp_dev("xent probs", gpr, pr, (size_t)B * K, RT_EW);
    dpoison(gdp, (size_t)B * K);
    tf_xent_bwd(B, K, pr, lab, B, dp, 0); tf_xent_bwd_cuda(B, K, gpr, glab, B, gdp, 0);
    cmp_dev("xent dlogits", gdp, dp, (size_t)B * K, RT_EW);
    /* optimizer passes on a 100003-element arena */
    cudaStream_t st = tf_backend_cuda_stream();
    float *m = hrand(n, 44, 0.1f), *v = hrand(n, 45, 0.1f), *g = hrand(n, 46, 1.0f), *ema = hrand(n, 47, 1.0f);
    for (size_t i = 0; i < n; i++) v[i] = fabsf(v[i]);
    float *gm = dcopy(m, n), *gv = dcopy(v, n), *gg = dcopy(g, n), *gema = dcopy(ema, n);
    for (int kind = 0; kind < 2; kind++) {
        TfAdamConfig c = {kind ? TF_OPTIM_ADAMW : TF_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0.01f};
        tf_adam_update(&c, n, p, g, m, v, 3 + kind, 1e-3f);
        tf_adam_update_cuda(&c, n, gp, gg, gm, gv, 3 + kind, 1e-3f, st);
        cmp_dev(kind ? "adamw param" : "adam param", gp, p, n, RT_EW);
        cmp_dev("adam m", gm, m, n, RT_EW);
        cmp_dev("adam v", gv, v, n, RT_EW);
    }
    double norm = tf_grad_norm(n, g);
    tf_grad_norm_cuda(n, gg, dl, part, st);
    gl = dget(dl);
    CHECK_MSG(fabs(gl - norm) <= 1e-9 * norm, "grad norm: gpu %.17g cpu %.17g", gl, norm);
    printf("  %-44s gpu %.15g cpu %.15g\n", "grad norm", gl, norm);
    tf_clip_by_norm_cuda(n, gg, dl, norm / 2, st);
    tf_scale(n, g, (float)(norm / 2 / (norm + 1e-6)));
    cmp_dev("clip by norm", gg, g, n, RT_EW);
    tf_clip_by_norm_cuda(n, gg, dl, norm * 2, st); /* norm below the threshold: unchanged */
    cmp_dev("clip below threshold (unchanged)", gg, g, n, RT_EW);
    tf_scale(n, g, 0.5f); tf_scale_cuda(n, gg, 0.5f, st);
    cmp_dev_exact("scale", gg, g, n, sizeof(float));
    tf_ema_update(n, ema, p, 0.999f); tf_ema_update_cuda(n, gema, gp, 0.999f, st);
    cmp_dev("ema", gema, ema, n, RT_EW);
    int *flag = (int *)g_be->alloc(sizeof(int)), *fpart = (int *)g_be->alloc(TF_OPTIM_NORM_CHUNKS * sizeof(int)), hf = -1;
    tf_all_finite_cuda(n, gg, flag, fpart, st);
    g_be->download(&hf, flag, sizeof hf);
    CHECK(hf == 1);
    float inf = INFINITY;
    g_be->upload(gg + n - 1, &inf, sizeof inf);
    tf_all_finite_cuda(n, gg, flag, fpart, st);
    g_be->download(&hf, flag, sizeof hf);
    CHECK(hf == 0 && !tf_all_finite(1, &inf));
    free(p); free(t); free(dp); free(pr); free(m); free(v); free(g); free(ema);
    dfree(gp); dfree(gt); dfree(gdp); dfree(dl); dfree(part); dfree(glab); dfree(gpr); dfree(gm); dfree(gv); dfree(gg);
    dfree(gema); dfree(flag); dfree(fpart);
}

/* Child: a label outside the table must end the program with the CPU op's message. */
static void bad_label_child(const void *arg) {
    (void)arg;
    if (tf_cuda_device_count() <= 0) _exit(TF_TEST_SKIP);
    const TfBackend *be = tf_backend_cuda(0);
    int32_t lab[2] = {3, 12}, *gl = be->alloc(sizeof lab);
    float *tab = be->alloc(10 * 4 * sizeof(float)), *out = be->alloc(2 * 4 * sizeof(float));
    be->upload(gl, lab, sizeof lab);
    tf_embedding_fwd_cuda(2, 4, 10, gl, tab, out);
    be->sync();
    _exit(0); /* not reached when the check works */
}

int main(void) {
    /* Before anything touches CUDA in this process (a forked child cannot use a parent's CUDA). */
    char out[4096];
    int rc = tf_child_run(bad_label_child, NULL, out, sizeof out);
    if (rc != TF_TEST_SKIP) {
        CHECK_MSG(rc == TF_EXIT_USAGE && strstr(out, "label embedding (GPU): label 12 of sample 1 is outside [0, 10)"),
                  "bad label: exit %d, stderr: %s", rc, out);
        printf("  %-44s exit %d: %s", "label out of range dies", rc, strchr(out, ']') ? strchr(out, ']') + 2 : out);
    }
    gpu_require("test_gpu_ops_misc");
    test_elementwise();
    test_layout();
    test_embed_dropout();
    test_losses_optim();
    return tf_test_finish("test_gpu_ops_misc");
}
